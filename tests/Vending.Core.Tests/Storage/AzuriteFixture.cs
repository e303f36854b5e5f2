using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Vending.Core.Storage;
using Vending.Testing;

namespace Vending.Core.Tests.Storage;

/// <summary>One Azurite per test class; tests keep apart by using their own references and machine ids.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Azurite? _azurite;

    public string ConnectionString => _azurite!.ConnectionString;

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    public VendingTables Tables(params HttpPipelinePolicy[] policies) => new(Service(policies));

    /// <summary>A table service client with <paramref name="policies"/> in its pipeline (e.g. a request log).</summary>
    public TableServiceClient Service(params HttpPipelinePolicy[] policies)
    {
        var options = new TableClientOptions();
        foreach (var policy in policies)
        {
            options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        }

        return new TableServiceClient(ConnectionString, options);
    }

    /// <summary>A fresh instance's write path (its own row cache) over these tables.</summary>
    public StoreInstance Store(TimeProvider? time = null, params HttpPipelinePolicy[] policies) =>
        new(Tables(policies), time ?? TimeProvider.System);

    public TableClient Table(string name) => new(ConnectionString, name);
}

[CollectionDefinition(nameof(AzuriteCollection))]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>;
