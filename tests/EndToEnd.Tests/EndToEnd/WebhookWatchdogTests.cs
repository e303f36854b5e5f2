using System.Net;
using Microsoft.Extensions.Logging;
using Vending.Vipps.Webhooks;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>
/// The watchdog timer in the app's own process (every second here, at start and daily in Azure) against the simulator's
/// Webhooks API: a registration Vipps deleted is registered again with a warning, and webhooks verify again with
/// its new secret; a registration in place is left exactly as it is.
/// </summary>
public sealed class WebhookWatchdogTests
{
    private static Task<ProductStack> StartAsync() => ProductStack.StartAsync(new ProductStackOptions
    {
        // Registered before the runner starts (the watchdog adopts them): an ensure at boot would race its first run.
        Webhooks = Vending.Stack.WebhookSetup.ConfiguredSecret,
        RunnerSettings = { ["WebhookWatchdog:Enabled"] = "true" },
    });

    [Fact]
    public async Task A_registration_deleted_at_Vipps_is_registered_again_on_the_next_run_with_a_warning()
    {
        await using var stack = await StartAsync();
        var url = $"{stack.RunnerUrl}api/webhooks/vipps";
        var webhooks = stack.VippsWebhooks;
        await WaitForRunsAsync(stack, 1);

        var before = Assert.Single(await webhooks.ListAsync("vippsno", CancellationToken.None), w => w.Url == url);
        await webhooks.DeleteAsync("vippsno", before.Id, CancellationToken.None);

        var again = await ProductStack.WaitForAsync(async () =>
            (await webhooks.ListAsync("vippsno", CancellationToken.None)).SingleOrDefault(w => w.Url == url), what: "vippsno registered again");
        Assert.NotEqual(before.Id, again.Id);
        Assert.Equal(WebhookEventTypes.All.Order(), again.Events.Order());
        await ProductStack.WaitUntilAsync(() => Warnings(stack).Any(w => w.Message.Contains("vippsno", StringComparison.Ordinal)), what: "the watchdog's warning");
        var warning = Warnings(stack).First(w => w.Message.Contains("vippsno", StringComparison.Ordinal));
        Assert.Contains(again.Id.ToString(), warning.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Warnings(stack), w => w.Message.Contains("mobilepaydk", StringComparison.Ordinal));

        // Webhooks from the new registration verify: the customer's approval reaches the sale through it.
        var refusedBefore = stack.Logs.Containing("Webhook refused").Count;
        using var machine = await stack.NewMachineAsync("watchdog");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola())).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Authorized");
        await ProductStack.WaitUntilAsync(
            () => stack.Simulator.Ledger.Find(reference) is not null && stack.Logs.Containing(reference).Any(l => l.Message.Contains("Authorized", StringComparison.Ordinal)),
            what: "the sale recorded as authorized");
        Assert.Equal(refusedBefore, stack.Logs.Containing("Webhook refused").Count);
    }

    [Fact]
    public async Task A_registration_in_place_is_left_as_it_is_run_after_run()
    {
        await using var stack = await StartAsync();
        var url = $"{stack.RunnerUrl}api/webhooks/vipps";
        var webhooks = stack.VippsWebhooks;
        var before = new Dictionary<string, Guid>();
        foreach (var merchant in new[] { "vippsno", "mobilepaydk" })
        {
            before[merchant] = Assert.Single(await webhooks.ListAsync(merchant, CancellationToken.None), w => w.Url == url).Id;
        }

        await WaitForRunsAsync(stack, 3);

        foreach (var (merchant, id) in before)
        {
            Assert.Equal(id, Assert.Single(await webhooks.ListAsync(merchant, CancellationToken.None), w => w.Url == url).Id);
        }

        Assert.Empty(Warnings(stack));
        Assert.Empty(stack.Logs.Containing("Webhook registered for merchant"));
        Assert.All(stack.Logs.Containing("Webhook watchdog:"), l => Assert.Contains("0 repaired", l.Message, StringComparison.Ordinal));
    }

    // The watchdog's re-registration warning (event WebhookReregistered), told by its level and words: the log line
    // contract promises level, category and message, not the event id.
    private static IReadOnlyList<CapturedLog> Warnings(ProductStack stack) =>
        stack.Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("had no usable registration", StringComparison.Ordinal)).ToList();

    private static Task WaitForRunsAsync(ProductStack stack, int runs) =>
        ProductStack.WaitUntilAsync(() => stack.Logs.Containing("Webhook watchdog:").Count >= runs, what: $"{runs} watchdog runs");
}
