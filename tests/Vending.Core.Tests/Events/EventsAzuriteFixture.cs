using Azure.Data.Tables;
using Vending.Testing;

namespace Vending.Core.Tests.Events;

/// <summary>One Azurite for a test class whose tests each work in their own sale partitions (fresh references),
/// so they cannot see each other's rows. Tests that walk OpenSales start their own Azurite instead.</summary>
public sealed class EventsAzuriteFixture : IAsyncLifetime
{
    private Azurite? _azurite;

    public TableServiceClient Tables { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        Tables = await OutboxTestData.TablesAsync(_azurite.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
