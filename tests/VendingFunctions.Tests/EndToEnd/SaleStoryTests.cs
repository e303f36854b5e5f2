using System.Net;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>One sale's story per test, through the whole product: machine API → runner → Vipps simulator → webhooks →
/// queue commands → ledger. Assertions are on what really moved (the simulator's ledger) and what the machine saw.</summary>
public sealed class SaleStoryTests(ProductStack stack) : IClassFixture<ProductStack>
{
    [Fact]
    public async Task Delivered_sale_is_captured_once_for_the_full_amount()
    {
        using var machine = await stack.NewMachineAsync("deliver");
        var created = await machine.CreateSaleAsync([new SaleLine("cola", "Cola 0.5 l", 2, 2500), new SaleLine("chips", "Chips", 1, 3000)]);
        var reference = created.Reference;
        Assert.Equal("Created", created.State);
        Assert.Equal(8000, created.Money("amount"));

        var poll = machine.LongPollAsync(reference, "Created");
        Assert.Null(stack.Simulator.Approve(reference));
        var authorized = (await poll).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Authorized", authorized.State);
        Assert.Equal(8000, authorized.Money("authorizedAmount"));

        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        var captured = await machine.WaitForStateAsync(reference, "Captured");
        Assert.Equal(8000, captured.Money("capturedAmount"));

        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal(8000, ledger.Captured);
        Assert.Equal(0, ledger.Cancelled);
        var captures = ledger.Operations.Where(o => o.Operation == "capture" && o.Outcome == "ok").ToList();
        Assert.Single(captures);
        Assert.Equal(8000, captures[0].Amount);
    }
}
