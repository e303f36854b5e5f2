using System.Net;
using VippsSimulator.Payments;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>A stack whose machines have 10 s (the least the product allows) to report a vend (the product default is 120 s).</summary>
public sealed class ShortVendDeadlineStack() : ProductStack(new ProductStackOptions { VendReportDeadlineSeconds = 10 });

/// <summary>Sales that end because time runs out: the machine never reports, the customer never pays. The reconciler
/// (every second here) and Vipps' own expiry must end them without anyone's help, with nothing captured.</summary>
public sealed class TimeoutStoryTests(ShortVendDeadlineStack stack) : IClassFixture<ShortVendDeadlineStack>
{
    [Fact]
    public async Task Machine_that_never_reports_the_vend_gets_its_reservation_released_after_the_deadline()
    {
        using var machine = await stack.NewMachineAsync("silent");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2700))).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Authorized");

        // No vend report: the reconciler releases once the deadline has passed.
        var cancelled = await machine.WaitForStateAsync(reference, "Cancelled");
        Assert.Equal((0L, 2700L), (cancelled.Money("capturedAmount"), cancelled.Money("cancelledAmount")));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((2700L, 0L, 2700L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));
        Assert.DoesNotContain(ledger.Operations, o => o.Operation == "capture");

        // A report that comes after the release cannot capture any more.
        var late = await machine.VendAsync(reference, "delivered");
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.Contains(late.Code, new[] { "vend_report_too_late", "sale_closed" });
        Assert.Equal(0, stack.Simulator.Ledger.Find(reference)!.Captured);
    }

    [Fact]
    public async Task Payment_nobody_approves_expires_at_Vipps_and_the_sale_ends_Expired()
    {
        using var machine = await stack.NewMachineAsync("expire");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(2100))).Reference;

        var poll = machine.LongPollAsync(reference, "Created");
        Assert.True(stack.Simulator.AdvanceClock(TimeSpan.FromSeconds(stack.Simulator.Options.PaymentExpirySeconds + 1)) >= 1);
        var ended = await poll;
        Assert.Equal("Expired", ended.State);

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.EXPIRED, ledger.State);
        Assert.Equal((0L, 0L), (ledger.Authorized, ledger.Captured));
        Assert.NotNull(stack.Simulator.Approve(reference));
        Assert.Equal(HttpStatusCode.Conflict, (await machine.VendAsync(reference, "delivered")).Status);
    }
}
