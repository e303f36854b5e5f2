using VippsSimulator.Webhooks;

namespace LoadTest;

/// <summary>
/// Where the approval -> machine time of a sale whose AUTHORIZED webhook was delivered goes, leg by leg, from the
/// customer's approve (harness clock) and the simulator's delivery log (same process, same wall clock):
/// <list type="bullet">
/// <item><b>Vipps holds</b>: approve pressed -> the acknowledged delivery attempt sent. The simulator's own work plus
/// what the fault profile does on purpose: the 1.5 s delay, a lane waiting behind an earlier event of the payment,
/// retries after a failed attempt (the instance down).</item>
/// <item><b>ours</b>: that attempt sent -> the machine's long poll answered: the webhook's handling, the commit, the
/// wake and the answer's way back. This is the part the product and the local host decide.</item>
/// <item><b>webhook handling</b>: the acknowledged attempt's duration as the simulator saw it.</item>
/// </list>
/// Sales are also classed: <b>undisturbed</b> (no instance was down between approve and answer, the first attempt was
/// acknowledged and sent within <see cref="UndisturbedHold"/> of approve, i.e. no delay fault, no retry, no wait behind
/// another event) and <b>disturbed</b> (the rest).
/// </summary>
public sealed record ApprovalBreakdown(
    LatencySummary Undisturbed,
    LatencySummary Disturbed,
    LatencySummary VippsHolds,
    LatencySummary Ours,
    LatencySummary WebhookHandling,
    int Retried,
    int Held,
    int DuringRestart,
    LatencySummary OursOutsideRestarts)
{
    private const string AuthorizedEvent = "epayments.payment.authorized.v1";

    /// <summary>Below the fault profile's 1.5 s webhook delay, well above the simulator's own dispatch time.</summary>
    public static readonly TimeSpan UndisturbedHold = TimeSpan.FromMilliseconds(1000);

    public static ApprovalBreakdown Of(IEnumerable<SaleRecord> records, IReadOnlyList<WebhookDeliveryView> deliveries, IReadOnlyList<TimeWindow>? restarts = null)
    {
        restarts ??= [];
        var authorized = deliveries.Where(d => d.EventType == AuthorizedEvent).ToLookup(d => d.Reference, StringComparer.Ordinal);
        var (undisturbed, disturbed, holds, ours, handling) = (new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder());
        var oursOutsideRestarts = new LatencyRecorder();
        int retried = 0, held = 0, duringRestart = 0;
        foreach (var record in records)
        {
            if (record is not { Reference: { } reference, ApprovalToMachine: { } latency, ApprovedAt: { } approvedAt, ApprovalAnsweredAt: { } answeredAt })
            {
                continue;
            }

            // The original delivery when it got through, else a duplicate that did (as the delivered/dropped split).
            var delivery = authorized[reference].Where(d => d.Status == DeliveryStatus.Delivered).OrderBy(d => d.Duplicate).FirstOrDefault();
            var acknowledged = delivery?.Attempts.LastOrDefault(a => a.StatusCode is >= 200 and < 300);
            if (delivery is null || acknowledged is null)
            {
                continue;
            }

            var hold = acknowledged.At - approvedAt;
            holds.Add(hold);
            ours.Add(answeredAt - acknowledged.At);
            handling.Add(TimeSpan.FromMilliseconds(acknowledged.DurationMilliseconds));
            var firstAttempt = delivery.Attempts.Count == 1 && !delivery.Duplicate;
            var restarting = restarts.Any(w => w.Overlaps(approvedAt, answeredAt));
            if (restarting)
            {
                duringRestart++;
            }
            else if (!firstAttempt)
            {
                retried++;
            }
            else if (hold >= UndisturbedHold)
            {
                held++;
            }

            if (!restarting)
            {
                oursOutsideRestarts.Add(answeredAt - acknowledged.At);
            }

            (!restarting && firstAttempt && hold < UndisturbedHold ? undisturbed : disturbed).Add(latency);
        }

        return new ApprovalBreakdown(undisturbed.Summarize(), disturbed.Summarize(), holds.Summarize(), ours.Summarize(), handling.Summarize(), retried, held, duringRestart, oursOutsideRestarts.Summarize());
    }

    public IEnumerable<string> Lines()
    {
        yield return $"   ... undisturbed (no instance down meanwhile, first attempt acknowledged, sent < {UndisturbedHold.TotalMilliseconds:F0} ms after approve): {Undisturbed}";
        yield return $"   ... disturbed ({DuringRestart} overlapping an instance's restart, {Retried} more retried after a failed attempt, {Held} more held >= {UndisturbedHold.TotalMilliseconds:F0} ms by a delay fault or an earlier event): {Disturbed}";
        yield return $"   legs: approve -> acknowledged attempt sent (Vipps' side, faults included): {VippsHolds}";
        yield return $"         acknowledged attempt sent -> machine answered (ours): {Ours}";
        yield return $"         ... the same, no instance down meanwhile: {OursOutsideRestarts}";
        yield return $"         webhook handling as the simulator timed it: {WebhookHandling}";
    }
}
