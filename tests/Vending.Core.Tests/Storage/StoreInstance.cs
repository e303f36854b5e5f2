using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Sales;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

/// <summary>One instance's write path over Azurite (store, row cache, due index, recorder), as the storage tests use
/// it: two of these are two instances (their own caches) over the same tables.</summary>
public sealed class StoreInstance
{
    public StoreInstance(VendingTables tables, TimeProvider time, VendingOptions? options = null)
    {
        Store = new SaleStore(tables, Cache, NullLogger<SaleStore>.Instance);
        Due = new DueSaleIndex(tables);
        Recorder = new SaleRecorder(Store, Cache, Due, new NoQueue(), new SaleChangeNotifier(), Array.Empty<IOutboxDispatcher>(),
            Options.Create(options ?? new VendingOptions { PublicBaseUrl = new Uri("http://127.0.0.1:7072") }), time, NullLogger<SaleRecorder>.Instance);
    }

    public SaleRowCache Cache { get; } = new();
    public SaleStore Store { get; }
    public DueSaleIndex Due { get; }
    public SaleRecorder Recorder { get; }

    /// <summary>Creates the sale as the service would (its machine's create transaction); a replay answers the stored sale.</summary>
    public async Task<Sale> InsertAsync(Sale sale, CancellationToken cancellationToken)
    {
        var creation = await Recorder.CreateAsync(sale, cancellationToken);
        return creation.Outcome switch
        {
            CreationOutcome.Created => creation.Stored!.Sale,
            CreationOutcome.Replay => (await Store.GetAsync(creation.Reference, cancellationToken))!,
            _ => throw new InvalidOperationException($"Machine {sale.MachineId} has an open sale {creation.Reference}."),
        };
    }

    public Task<TransitionResult> ApplyAsync(string reference, SaleEvent saleEvent, string? dedupeRowKey, CancellationToken cancellationToken) =>
        Recorder.RecordAsync(reference, saleEvent, dedupeRowKey, cancellationToken);

    public Task<Sale?> GetAsync(string reference, CancellationToken cancellationToken) => Store.GetAsync(reference, cancellationToken);

    public Task<IReadOnlyList<SaleHistoryEntry>> GetHistoryAsync(string reference, CancellationToken cancellationToken) =>
        Store.GetHistoryAsync(reference, cancellationToken);

    public Task<bool> HasUnsentOutboxAsync(string reference, CancellationToken cancellationToken) => Store.HasUnsentOutboxAsync(reference, cancellationToken);

    private sealed class NoQueue : ISaleCommandQueue
    {
        public Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
