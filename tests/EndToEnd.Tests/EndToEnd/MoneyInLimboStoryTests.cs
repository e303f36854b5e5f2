using System.Net;
using Vending.Vipps;
using VendingFunctions.Tests.Operator;
using VippsSimulator.Faults;
using VippsSimulator.Payments;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>
/// A stack where unclear Vipps answers are resolved within seconds instead of days: commands retry from 1 s doubling
/// for at most 20 s (the product: 5 s doubling for 14 days), a command overdue by 10 s is re-sent (the least allowed),
/// and machines have 10 s to report a vend.
/// </summary>
public sealed class MoneyInLimboStack() : ProductStack(new ProductStackOptions
{
    VendReportDeadlineSeconds = 10,
    RunnerSettings =
    {
        ["Vending:CommandRetryWindowSeconds"] = "20",
        ["Vending:CommandRetryBaseMilliseconds"] = "1000",
        ["Vending:CommandStaleSeconds"] = "10",
    },
});

/// <summary>
/// "No money in limbo" (issue 11): every unclear Vipps answer is resolved against Vipps, every reservation ends
/// captured or released. Each story would end differently on the code before it: a sale Failed while Vipps captured,
/// money left reserved, two chains calling Vipps with one key, a charge without delivery.
/// </summary>
public sealed class MoneyInLimboStoryTests(MoneyInLimboStack stack) : IClassFixture<MoneyInLimboStack>
{
    private const string VippsNoMsn = "100001";

    private static readonly SaleLine[] ColaAndChips = [new("cola", "Cola 0.5 l", 1, 2500), new("chips", "Chips", 1, 3000)];

    [Fact]
    public async Task Capture_whose_answer_is_lost_and_whose_retries_are_refused_but_done_at_Vipps_ends_Captured_and_releases_the_rest()
    {
        using var machine = await stack.NewMachineAsync("limbo-lost");
        var reference = (await machine.CreateSaleAsync(ColaAndChips)).Reference;
        await ApproveAsync(machine, reference);
        try
        {
            // Vipps captures and the answer is lost; every retry with the same key is refused (403); no webhook
            // arrives to tell us. Only asking Vipps shows the capture happened.
            stack.Simulator.Faults.Add(new FaultSettings
            {
                Rules =
                {
                    new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.ResponseLost, Status = 500, Count = 1 },
                    new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.Error, Status = 403 },
                },
                Webhooks = { new WebhookFaultRule { Msn = VippsNoMsn, DropRate = 1 } },
            });

            (await machine.VendAsync(reference, "partial", [("cola", 1)])).AssertStatus(HttpStatusCode.OK);
            var captured = await machine.WaitForStateAsync(reference, "Captured", TimeSpan.FromSeconds(60));

            Assert.Equal((2500L, 3000L), (captured.Money("capturedAmount"), captured.Money("cancelledAmount")));
            var ledger = stack.Simulator.Ledger.Find(reference)!;
            Assert.Equal((5500L, 2500L, 3000L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
            var done = Assert.Single(ledger.Operations, o => o.Operation == "capture" && o.Outcome == "ok" && !o.Replayed);
            Assert.Equal(IdempotencyKeys.For(reference, "capture1"), done.IdempotencyKey);
            // Faulted calls never reach the ledger: our history shows the refusals, then the capture found at Vipps.
            var history = await HistoryAsync(reference);
            Assert.Contains(history, h => h.Type == "command_retry" && h.Detail.Contains("vipps_http_403", StringComparison.Ordinal));
            Assert.Contains(history, h => h.Type == "vipps_captured" && h.Detail.StartsWith("capture1", StringComparison.Ordinal));
            Assert.DoesNotContain(history, h => h.Type == "command_failed");
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }
    }

    [Fact]
    public async Task Credentials_refused_with_401_for_a_while_mid_capture_are_shown_then_captured_once_they_clear()
    {
        using var machine = await stack.NewMachineAsync("limbo-401");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(3100))).Reference;
        await ApproveAsync(machine, reference);
        try
        {
            // A rotated subscription key: Vipps' gateway refuses this merchant's captures for 4 s.
            stack.Simulator.Faults.Add(new FaultSettings
            {
                Rules = { new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.Error, Status = 401, ForSeconds = 4 } },
            });

            (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
            await ProductStack.WaitUntilAsync(async () =>
                {
                    var report = await stack.Operator.GetAnswerAsync("api/operator/reconciliation");
                    return report.Json.GetProperty("items").EnumerateArray().Any(item =>
                        item.GetProperty("reference").GetString() == reference && item.GetProperty("reason").GetString() == "capture_credentials_refused");
                },
                TimeSpan.FromSeconds(10), "the reconciliation report shows the refused credentials");

            await machine.WaitForStateAsync(reference, "Captured", TimeSpan.FromSeconds(40));
            var ledger = stack.Simulator.Ledger.Find(reference)!;
            Assert.Equal((3100L, 3100L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
            Assert.Single(ledger.Operations, o => o.Operation == "capture" && o.Outcome == "ok" && !o.Replayed);
            var history = await HistoryAsync(reference);
            Assert.Contains(history, h => h.Type == "command_retry" && h.Detail.Contains("vipps_http_401", StringComparison.Ordinal));
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }
    }

    [Fact]
    public async Task Capture_outage_longer_than_the_retry_window_releases_the_reservation_and_ends_the_sale_Failed()
    {
        using var machine = await stack.NewMachineAsync("limbo-outage");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(3300))).Reference;
        await ApproveAsync(machine, reference);
        try
        {
            stack.Simulator.Faults.Add(new FaultSettings
            {
                Rules = { new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.Error, Status = 503 } },
            });

            (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
            var failed = await machine.WaitForStateAsync(reference, "Failed", TimeSpan.FromSeconds(60));

            // Final, and nothing of the customer's money is held: captured + cancelled = authorized at Vipps.
            var ledger = stack.Simulator.Ledger.Find(reference)!;
            Assert.Equal((3300L, 0L, 3300L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
            Assert.Equal((0L, 3300L), (failed.Money("capturedAmount"), failed.Money("cancelledAmount")));
            var sale = (await stack.Operator.GetAnswerAsync($"api/operator/sales/{reference}")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("command_retries_exhausted", sale.Json.GetProperty("sale").GetProperty("failureCode").GetString());

            // Nothing is left to retry or release: the operator is told so, and nothing moves.
            Assert.Equal("reservation_released", (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/retry", new { requestId = "retry-1" }))
                .AssertStatus(HttpStatusCode.Conflict).Code);
            Assert.Equal("nothing_reserved", (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/release", new { requestId = "release-1" }))
                .AssertStatus(HttpStatusCode.Conflict).Code);
            Assert.Equal(0, stack.Simulator.Ledger.Find(reference)!.Captured);
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }
    }

    [Fact]
    public async Task Backoff_longer_than_the_stale_time_is_not_doubled_by_the_reconciler_one_chain_calls_Vipps()
    {
        using var machine = await stack.NewMachineAsync("limbo-chain");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(3500))).Reference;
        await ApproveAsync(machine, reference);
        try
        {
            // Captures fail for 14 s and each takes 300 ms: attempts at about 0, 1, 3, 7 and 15 s. The 8 s backoff
            // before the last one is overdue by the stale rule's clock (10 s since the first enqueue) but not by its
            // recorded next attempt: the reconciler must leave it alone.
            stack.Simulator.Faults.Add(new FaultSettings
            {
                Rules =
                {
                    new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.Latency, LatencyMilliseconds = 300 },
                    new FaultRule { Endpoint = "capture", Reference = reference, Kind = FaultKind.Error, Status = 503, ForSeconds = 14 },
                },
            });

            (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
            await machine.WaitForStateAsync(reference, "Captured", TimeSpan.FromSeconds(40));

            var ledger = stack.Simulator.Ledger.Find(reference)!;
            Assert.Equal((3500L, 3500L), (ledger.Authorized, ledger.Captured));
            Assert.Single(ledger.Operations, o => o.Operation == "capture" && o.Outcome == "ok" && !o.Replayed);
            Assert.DoesNotContain(ledger.Operations, o => o.Outcome == "in-flight");
            var history = await HistoryAsync(reference);
            Assert.DoesNotContain(history, h => h.Type == "command_reenqueued");
            Assert.True(history.Count(h => h.Type == "command_retry") >= 3, string.Join("\n", history.Select(h => $"{h.Type}: {h.Detail}")));
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }
    }

    [Fact]
    public async Task Dead_capture_at_authorization_machine_gets_its_customer_refunded_once_and_its_late_report_is_kept()
    {
        using var machine = await stack.NewMachineAsync("limbo-onauth", captureMode: "OnAuthorization");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2900))).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Captured");

        // The machine died: no vend report within 10 s. Everything captured at authorization is given back.
        var refunded = await machine.WaitForStateAsync(reference, "Refunded", TimeSpan.FromSeconds(40));
        Assert.Equal((2900L, 2900L), (refunded.Money("capturedAmount"), refunded.Money("refundedAmount")));
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((2900L, 2900L, 2900L), (ledger.Authorized, ledger.Captured, ledger.Refunded));
        Assert.Single(ledger.Operations, o => o.Operation == "refund" && o.Outcome == "ok" && !o.Replayed);

        // It comes back and says it delivered: still 409, but the goods given away are on record and reported.
        Assert.Equal("vend_report_too_late", (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.Conflict).Code);
        var report = (await stack.Operator.GetAnswerAsync("api/operator/reconciliation")).AssertStatus(HttpStatusCode.OK);
        var item = Assert.Single(report.Json.GetProperty("items").EnumerateArray(), i => i.GetProperty("reference").GetString() == reference);
        Assert.Equal(("delivered_not_charged", 2900L), (item.GetProperty("reason").GetString(), item.GetProperty("deliveredNotChargedAmount").GetInt64()));
        Assert.Contains(await HistoryAsync(reference), h => h.Type == "late_vend_report");
        Assert.Single(stack.Simulator.Ledger.Find(reference)!.Operations, o => o.Operation == "refund" && !o.Replayed);
    }

    [Fact]
    public async Task Operator_release_frees_an_authorization_once_per_request_id_and_refuses_what_cannot_be_done()
    {
        using var machine = await stack.NewMachineAsync("limbo-release");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2600))).Reference;
        await ApproveAsync(machine, reference);

        Assert.Equal("nothing_to_retry", (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/retry", new { requestId = "retry-1" }))
            .AssertStatus(HttpStatusCode.Conflict).Code);
        (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/release", new { requestId = "rel-1" })).AssertStatus(HttpStatusCode.Accepted);
        (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/release", new { requestId = "rel-1" })).AssertStatus(HttpStatusCode.Accepted);
        await machine.WaitForStateAsync(reference, "Cancelled");

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((2600L, 0L, 2600L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.Single(ledger.Operations, o => o.Operation == "cancel" && !o.Replayed);
        Assert.Equal("nothing_reserved", (await stack.Operator.PostAnswerAsync($"api/operator/sales/{reference}/release", new { requestId = "rel-2" }))
            .AssertStatus(HttpStatusCode.Conflict).Code);
        Assert.Single(await HistoryAsync(reference), h => h.Type == "operator_release");

        // The machine had dispensed after all: refused, and kept as delivered but not charged.
        Assert.Equal(HttpStatusCode.Conflict, (await machine.VendAsync(reference, "delivered")).Status);
        Assert.Contains(await HistoryAsync(reference), h => h.Type == "late_vend_report" && h.Detail.Contains("not charged 2600", StringComparison.Ordinal));
    }

    private async Task ApproveAsync(MachineClient machine, string reference)
    {
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Authorized");
    }

    private async Task<IReadOnlyList<(string Type, string Detail)>> HistoryAsync(string reference)
    {
        var answer = (await stack.Operator.GetAnswerAsync($"api/operator/sales/{reference}")).AssertStatus(HttpStatusCode.OK);
        return answer.Json.GetProperty("history").EnumerateArray()
            .Select(h => (h.GetProperty("type").GetString()!, h.GetProperty("detail").GetString()!)).ToList();
    }
}

/// <summary>
/// A stack where Vipps' payment lifetime is 20 s as far as the app knows (<c>Vipps:PaymentExpirySeconds</c>), with
/// 2 s of grace, while the simulator keeps its payments CREATED for Vipps' 10 minutes: "our expiry passed, Vipps' has
/// not" happens within seconds of real time, on both clocks as they are.
/// </summary>
public sealed class ExpiryStack() : ProductStack(new ProductStackOptions
{
    RunnerSettings =
    {
        ["Vipps:PaymentExpirySeconds"] = ExpiryStack.LifetimeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Vending:ExpiryGraceSeconds"] = ExpiryStack.GraceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    },
})
{
    public const int LifetimeSeconds = 20;
    public const int GraceSeconds = 2;

    public static TimeSpan Lifetime => TimeSpan.FromSeconds(LifetimeSeconds);
}

/// <summary>Expiry decided with Vipps, not by our clock alone.</summary>
public sealed class ExpiryStoryTests(ExpiryStack stack) : IClassFixture<ExpiryStack>
{
    [Fact]
    public async Task Inferred_expiry_terminates_the_payment_at_Vipps_so_the_customer_can_no_longer_pay()
    {
        using var machine = await stack.NewMachineAsync("limbo-expiry");
        var created = await machine.CreateSaleAsync(MachineClient.Cola(2200));
        var reference = created.Reference;
        var expiresAt = created.Json.GetProperty("expiresAt").GetDateTimeOffset();

        // Our expiry + grace passes; Vipps' has not (its EXPIRED never came): the payment is still CREATED there.
        await machine.WaitForStateAsync(reference, "Expired", ExpiryStack.Lifetime + TimeSpan.FromSeconds(40));
        Assert.True(DateTimeOffset.UtcNow >= expiresAt.AddSeconds(ExpiryStack.GraceSeconds), $"expired only after {expiresAt:O} + grace");

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.TERMINATED, ledger.State);
        Assert.Equal(0, ledger.Authorized);
        Assert.NotNull(stack.Simulator.Approve(reference));
    }

    [Fact]
    public async Task A_create_accepted_late_by_Vipps_expires_from_that_acceptance_not_from_the_first_try()
    {
        using var early = await stack.NewMachineAsync("limbo-early");
        using var late = await stack.NewMachineAsync("limbo-late");
        var control = (await early.CreateSaleAsync(MachineClient.Cola(2300))).Reference;
        try
        {
            // The first try's answers are lost (Vipps created the payment); the machine gets 503 and tries again later.
            stack.Simulator.Faults.Add(new FaultSettings
            {
                Rules = { new FaultRule { Endpoint = "create", Kind = FaultKind.ResponseLost, Status = 503, Count = 10 } },
            });
            var firstTry = DateTimeOffset.UtcNow;
            var first = await late.CreateAsync("late-1", MachineClient.Cola(2400));
            Assert.Equal(("vipps_unavailable", HttpStatusCode.ServiceUnavailable), (first.Code, first.Status));
            stack.Simulator.Faults.Reset();

            // Half a lifetime later (the story's time passing in real time; nothing waits on it for synchronization).
            var later = firstTry + ExpiryStack.Lifetime / 2;
            await ProductStack.WaitUntilAsync(() => DateTimeOffset.UtcNow >= later, ExpiryStack.Lifetime, "half a lifetime after the first try");
            var retried = DateTimeOffset.UtcNow;
            var accepted = (await late.CreateAsync("late-1", MachineClient.Cola(2400))).AssertStatus(HttpStatusCode.OK);
            var reference = accepted.Reference;
            var expiresAt = accepted.Json.GetProperty("expiresAt").GetDateTimeOffset();
            Assert.True(expiresAt >= retried + ExpiryStack.Lifetime - TimeSpan.FromSeconds(1), $"expiresAt {expiresAt:O}, retried at {retried:O}");

            // The control sale (accepted at once) is expired by the reconciler; the late one, accepted half a lifetime
            // later, is not, and its customer can still pay.
            await early.WaitForStateAsync(control, "Expired", ExpiryStack.Lifetime + TimeSpan.FromSeconds(40));
            Assert.Equal("Created", (await late.GetAsync(reference)).AssertStatus(HttpStatusCode.OK).State);
            Assert.Null(stack.Simulator.Approve(reference));
            await late.WaitForStateAsync(reference, "Authorized");
            (await late.CancelAsync(reference)).AssertStatus(HttpStatusCode.OK);
            await late.WaitForStateAsync(reference, "Cancelled");
        }
        finally
        {
            stack.Simulator.Faults.Reset();
        }
    }
}
