using Vending.Core.Sales;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

[Collection(nameof(AzuriteCollection))]
public class MachineSaleIndexTests(AzuriteFixture azurite)
{
    private static readonly Func<string, DateTimeOffset, CancellationToken, Task<bool>> AlwaysOpen = (_, _, _) => Task.FromResult(true);
    private static readonly Func<string, DateTimeOffset, CancellationToken, Task<bool>> NeverOpen = (_, _, _) => Task.FromResult(false);

    private MachineSaleIndex Index() => new(azurite.Tables(), TimeProvider.System);

    private static string Machine() => "m-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task A_retried_create_maps_to_the_same_sale()
    {
        var index = Index();
        var machine = Machine();

        var first = await index.ClaimAsync(machine, "s1", "ref-one", AlwaysOpen, default);
        var retry = await index.ClaimAsync(machine, "s1", "ref-other", AlwaysOpen, default);

        Assert.Equal(new MachineSaleClaim("ref-one", true), first);
        Assert.Equal(new MachineSaleClaim("ref-one", false), retry);
    }

    [Fact]
    public async Task A_second_sale_while_one_is_open_is_refused()
    {
        var index = Index();
        var machine = Machine();
        await index.ClaimAsync(machine, "s1", "ref-1", AlwaysOpen, default);

        var refused = await Assert.ThrowsAsync<SaleException>(() => index.ClaimAsync(machine, "s2", "ref-2", AlwaysOpen, default));

        Assert.Equal((RefusalKind.Conflict, "open_sale_exists"), (refused.Kind, refused.Code));
        Assert.Null(await index.FindAsync(machine, "s2", default));
    }

    [Fact]
    public async Task A_new_sale_after_the_previous_one_ended_is_listed_newest_first()
    {
        var index = Index();
        var machine = Machine();
        await index.ClaimAsync(machine, "s1", "ref-1", NeverOpen, default);
        await index.ClaimAsync(machine, "s2", "ref-2", NeverOpen, default);

        var listing = await index.ListAsync(machine, 10, default);

        Assert.Equal(["ref-2", "ref-1"], listing.Select(entry => entry.Reference));
    }

    [Fact]
    public async Task Racing_creates_of_different_sales_let_exactly_one_win()
    {
        var index = Index();
        var machine = Machine();
        // The previous sale is over, so both may try; the open-sale pointer's ETag lets only one through.
        await index.ClaimAsync(machine, "s0", "ref-0", NeverOpen, default);
        var claimed = new List<string>();
        Task<bool> OpenIfClaimed(string reference, DateTimeOffset _, CancellationToken __) => Task.FromResult(reference != "ref-0");

        var attempts = await Task.WhenAll(Enumerable.Range(1, 4).Select(async i =>
        {
            try
            {
                return (await index.ClaimAsync(machine, $"s{i}", $"ref-{i}", OpenIfClaimed, default)).Reference;
            }
            catch (SaleException exception) when (exception.Code == "open_sale_exists")
            {
                return null;
            }
        }));

        var winner = Assert.Single(attempts.OfType<string>());
        Assert.Equal(2, (await index.ListAsync(machine, 10, default)).Count);
        Assert.Contains(winner, (await index.ListAsync(machine, 10, default)).Select(entry => entry.Reference));
    }
}
