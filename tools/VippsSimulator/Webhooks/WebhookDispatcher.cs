using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Http;
using VippsSimulator.Payments;

namespace VippsSimulator.Webhooks;

/// <summary>
/// Sends every payment event to every matching registration, signed, at least once, in order per payment per
/// registration: each (registration, payment) pair has its own lane, and a lane's head is retried with backoff until
/// acknowledged (or abandoned) before the next event of that payment goes out. Other lanes never wait for it.
/// </summary>
public sealed class WebhookDispatcher(
    WebhookRegistry registry, WebhookDeliveryLog log, FaultInjector faults, SimulatorClock clock,
    IOptions<SimulatorOptions> options, ILogger<WebhookDispatcher> logger) : IPaymentEventSink, IHostedService, IDisposable
{
    private sealed class Lane
    {
        public readonly LinkedList<QueuedDelivery> Items = new();
        public bool Running;
    }

    private sealed record QueuedDelivery(WebhookDelivery Delivery, byte[] Body, TimeSpan Delay, bool Duplicate, int LostAttempts, bool RetriesKeepFirstDate)
    {
        public bool Reorder { get; set; }
    }

    /// <summary>The error recorded for an attempt a <see cref="WebhookFaultRule.LostAttempts"/> fault swallowed.</summary>
    public const string LostByFault = "Lost on the way by fault";

    private readonly Dictionary<(Guid Registration, string Msn, string Reference), Lane> _lanes = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
    private long _sequence;

    public void Publish(PaymentEvent paymentEvent)
    {
        var eventType = $"epayments.payment.{paymentEvent.Name.ToString().ToLowerInvariant()}.v1";
        var body = JsonSerializer.SerializeToUtf8Bytes(PaymentViews.Webhook(paymentEvent), SimulatorJson.Options);
        foreach (var registration in registry.Subscribed(paymentEvent.Msn, eventType))
        {
            var chaos = faults.DecideWebhook(paymentEvent.Msn);
            var delivery = NewDelivery(registration, paymentEvent, eventType, body, duplicate: false);
            log.Add(delivery);
            if (chaos.Drop)
            {
                log.Update(delivery, d => d.Status = DeliveryStatus.Dropped);
                logger.LogInformation("Webhook {EventType} for {Reference} dropped by fault", eventType, paymentEvent.Reference);
                continue;
            }
            var lane = LaneFor(registration.Id, paymentEvent.Msn, paymentEvent.Reference);
            lock (lane)
            {
                lane.Items.AddLast(new QueuedDelivery(delivery, body, chaos.Delay, chaos.Duplicate, chaos.LostAttempts, chaos.RetriesKeepFirstDate) { Reorder = chaos.Reorder });
                if (lane.Running) continue;
                lane.Running = true;
            }
            _ = Task.Run(() => Drain(lane, registration));
        }
    }

    private Lane LaneFor(Guid registration, string msn, string reference)
    {
        lock (_lanes)
        {
            if (!_lanes.TryGetValue((registration, msn, reference), out var lane)) _lanes[(registration, msn, reference)] = lane = new Lane();
            return lane;
        }
    }

    private async Task Drain(Lane lane, WebhookRegistration registration)
    {
        while (!_stopping.IsCancellationRequested)
        {
            QueuedDelivery head;
            lock (lane)
            {
                if (lane.Items.Count == 0)
                {
                    lane.Running = false;
                    return;
                }
                var first = lane.Items.First!;
                if (first.Value.Reorder && first.Next is not null)
                {
                    // Explicit chaos: let the next event of this payment overtake this one.
                    first.Value.Reorder = false;
                    lane.Items.RemoveFirst();
                    lane.Items.AddAfter(lane.Items.First!, first);
                }
                head = lane.Items.First!.Value;
            }
            try
            {
                if (head.Delay > TimeSpan.Zero) await Task.Delay(head.Delay, _stopping.Token);
                await DeliverUntilAcknowledged(head.Delivery, head.Body, registration, head.LostAttempts, head.RetriesKeepFirstDate);
                if (head.Duplicate)
                {
                    var copy = NewDelivery(registration, head.Delivery, head.Body);
                    log.Add(copy);
                    await DeliverUntilAcknowledged(copy, head.Body, registration, 0, head.RetriesKeepFirstDate);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Webhook lane for {Reference} failed", head.Delivery.Reference);
            }
            lock (lane) lane.Items.RemoveFirst();
        }
    }

    /// <param name="lostAttempts">Fault: this many first attempts never reach the receiver.</param>
    /// <param name="retriesKeepFirstDate">Fault: every attempt is dated (and signed) as the first one was.</param>
    private async Task DeliverUntilAcknowledged(
        WebhookDelivery delivery, byte[] body, WebhookRegistration registration, int lostAttempts, bool retriesKeepFirstDate)
    {
        var settings = options.Value.Webhooks;
        DateTimeOffset? firstAttemptAt = null;
        for (var attempt = 1; attempt <= settings.MaxAttempts; attempt++)
        {
            if (registry.Find(registration.Id) is null)
            {
                log.Update(delivery, d => d.Status = DeliveryStatus.Cancelled);
                return;
            }
            // x-ms-date uses the unshifted clock: receivers check it against their own clock, which /_sim/clock/advance does not move.
            var sentAt = retriesKeepFirstDate && firstAttemptAt is { } first ? first : clock.UnshiftedUtcNow();
            firstAttemptAt ??= sentAt;
            var result = attempt <= lostAttempts
                ? new DeliveryAttempt(sentAt, null, LostByFault, 0)
                : await Send(registration, body, settings.TimeoutSeconds, sentAt);
            log.Update(delivery, d =>
            {
                d.Attempts.Add(result);
                if (result.StatusCode is >= 200 and < 300) d.Status = DeliveryStatus.Delivered;
            });
            if (result.StatusCode is >= 200 and < 300) return;
            logger.LogInformation("Webhook {EventType} for {Reference} attempt {Attempt} failed: {Status} {Error}",
                delivery.EventType, delivery.Reference, attempt, result.StatusCode, result.Error);
            if (attempt < settings.MaxAttempts) await Task.Delay(settings.RetryDelay(attempt), _stopping.Token);
        }
        log.Update(delivery, d => d.Status = DeliveryStatus.Abandoned);
        logger.LogWarning("Webhook {EventType} for {Reference} abandoned after {Attempts} attempts", delivery.EventType, delivery.Reference, settings.MaxAttempts);
    }

    /// <param name="signedAt">The x-ms-date to sign with: now, or the first attempt's date when retries keep it.</param>
    private async Task<DeliveryAttempt> Send(WebhookRegistration registration, byte[] body, double timeoutSeconds, DateTimeOffset signedAt)
    {
        var sentAt = clock.UnshiftedUtcNow();
        var signature = WebhookSigner.Sign(registration.Url, body, registration.Secret, signedAt);
        using var request = new HttpRequestMessage(HttpMethod.Post, registration.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("x-ms-date", signature.Date);
        request.Headers.TryAddWithoutValidation("x-ms-content-sha256", signature.ContentSha256);
        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            return new DeliveryAttempt(sentAt, (int)response.StatusCode, null, watch.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return new DeliveryAttempt(sentAt, null, $"No answer within {timeoutSeconds} s", watch.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryAttempt(sentAt, null, e.Message, watch.Elapsed.TotalMilliseconds);
        }
    }

    private WebhookDelivery NewDelivery(WebhookRegistration registration, PaymentEvent e, string eventType, byte[] body, bool duplicate) => new()
    {
        Id = Guid.NewGuid(),
        RegistrationId = registration.Id,
        Url = registration.Url.ToString(),
        Msn = e.Msn,
        Reference = e.Reference,
        EventType = eventType,
        PspReference = e.PspReference,
        Sequence = Interlocked.Increment(ref _sequence),
        Payload = System.Text.Encoding.UTF8.GetString(body),
        EnqueuedAt = clock.GetUtcNow(),
        Duplicate = duplicate,
    };

    private WebhookDelivery NewDelivery(WebhookRegistration registration, WebhookDelivery original, byte[] body) => new()
    {
        Id = Guid.NewGuid(),
        RegistrationId = registration.Id,
        Url = original.Url,
        Msn = original.Msn,
        Reference = original.Reference,
        EventType = original.EventType,
        PspReference = original.PspReference,
        Sequence = Interlocked.Increment(ref _sequence),
        Payload = System.Text.Encoding.UTF8.GetString(body),
        EnqueuedAt = clock.GetUtcNow(),
        Duplicate = true,
    };

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private int _disposed;

    /// <summary>Idempotent: the container disposes this instance once per registration (sink, hosted service, itself).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // The token source is not disposed: StopAsync may still run after this (host disposal order), and it holds no timer.
        _stopping.Cancel();
        _http.Dispose();
    }
}
