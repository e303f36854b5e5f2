using System.Net;
using VippsSimulator.Faults;
using VippsSimulator.Webhooks;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>
/// A stack where a webhook retry comes later than the receiver's skew window (1 s) and carries its first attempt's
/// <c>x-ms-date</c>; the reconciler is idle (timers once an hour) so only the webhook path can move a sale.
/// </summary>
public sealed class StaleWebhookStack() : ProductStack(new ProductStackOptions
{
    TimerIntervalSeconds = 3600,
    RunnerSettings = { ["Vending:WebhookClockSkewSeconds"] = "1" },
    SimulatorSettings = { ["Simulator:Webhooks:RetryDelaysSeconds"] = "2.5" },
});

/// <summary>
/// Vipps may retry a webhook with its first attempt's date (undocumented either way): a correctly signed retry that is
/// stale by then must still converge the sale, by a poll of Vipps for that reference, and be acknowledged.
/// </summary>
public sealed class StaleWebhookStoryTests(StaleWebhookStack stack) : IClassFixture<StaleWebhookStack>
{
    [Fact]
    public async Task A_stale_but_signed_retry_of_authorized_is_acknowledged_and_converges_the_sale_by_polling_vipps()
    {
        stack.Simulator.Faults.Add(new FaultSettings { Webhooks = { new WebhookFaultRule { LostAttempts = 1, RetriesKeepFirstDate = true } } });
        using var machine = await stack.NewMachineAsync("stale");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2300))).Reference;

        Assert.Null(stack.Simulator.Approve(reference));
        await ProductStack.WaitUntilAsync(
            () => stack.Simulator.WebhookDeliveries.Snapshot(reference).Any(d => d.EventType.EndsWith(".authorized.v1", StringComparison.Ordinal) && d.Status == DeliveryStatus.Delivered),
            TimeSpan.FromSeconds(30), "the AUTHORIZED retry to be acknowledged");

        var authorized = stack.Simulator.WebhookDeliveries.Snapshot(reference).Single(d => d.EventType.EndsWith(".authorized.v1", StringComparison.Ordinal));
        Assert.Equal(2, authorized.Attempts.Count);
        Assert.Equal(WebhookDispatcher.LostByFault, authorized.Attempts[0].Error);
        Assert.Equal(200, authorized.Attempts[1].StatusCode);
        Assert.True(authorized.Attempts[1].At - authorized.Attempts[0].At > TimeSpan.FromSeconds(2), "the retry came after the skew window");
        var sale = (await machine.GetAsync(reference)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Authorized", sale.State);
        Assert.Equal(2300, sale.Money("authorizedAmount"));
        // The app's log file is written by its own process: the line arrives shortly after the answer.
        await ProductStack.WaitUntilAsync(() => stack.Logs.Containing("outside the skew window").Count > 0, TimeSpan.FromSeconds(10), "the skew-window log line");
    }
}
