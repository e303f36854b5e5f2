using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

[Collection(nameof(AzuriteCollection))]
public class OpenSaleListTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_sale_reopened_after_listing_is_not_removed()
    {
        var list = new OpenSaleList(azurite.Tables(), TimeProvider.System);
        var reference = "open-" + Guid.NewGuid().ToString("N")[..12];
        await list.AddAsync(reference, default);
        var listed = (await list.ListAsync(1000, default)).Single(entry => entry.Reference == reference);

        await list.AddAsync(reference, default); // a late event re-opened it meanwhile

        Assert.False(await list.RemoveAsync(listed, default));
        var again = (await list.ListAsync(1000, default)).Single(entry => entry.Reference == reference);
        Assert.True(await list.RemoveAsync(again, default));
        Assert.DoesNotContain(await list.ListAsync(1000, default), entry => entry.Reference == reference);
    }
}
