using Azure.Data.Tables;
using Vending.Testing;

namespace Vending.Core.Tests;

public class AzuriteSmokeTests
{
    [Fact]
    public async Task Azurite_starts_and_stores_an_entity()
    {
        await using var azurite = await Azurite.StartAsync();
        var table = new TableClient(azurite.ConnectionString, "Smoke");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["Amount"] = 2500L });
        var read = await table.GetEntityAsync<TableEntity>("p", "r");
        Assert.Equal(2500L, read.Value.GetInt64("Amount"));
    }
}
