using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;

using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>The create: the machine's rows (<c>open</c>, <c>id-</c>, <c>t-</c>) and the sale's first rows, one transaction.</summary>
public sealed partial class SaleStore
{
    /// <summary>Enough for a burst of creates racing on one machine; each round looks at the machine afresh.</summary>
    private const int MaxCreateAttempts = 5;

    // Indexes in the create's transaction: a failure names the row at fault.
    private const int OpenAction = 0;
    private const int ClaimAction = 1;
    private const int StateAction = 3;

    /// <summary>Per instance: each machine's <c>open</c> row as last read or written, with its ETag. A stale one fails the
    /// create's transaction (412) and is read again, so it only ever saves a read.</summary>
    private readonly ConcurrentDictionary<string, TableEntity> _openRows = new(StringComparer.Ordinal);

    public async Task<SaleCreation> CreateAsync(Sale sale, DateTimeOffset dueAt, Func<Task>? beside, CancellationToken cancellationToken)
    {
        var reference = sale.Reference;
        var machineId = SaleEntities.Partition(reference);
        if (machineId != sale.MachineId)
        {
            throw new ArgumentException($"Reference {reference} does not name machine {sale.MachineId}.", nameof(sale));
        }

        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var claimId = Guid.NewGuid().ToString("N");
        var transitionId = Guid.NewGuid().ToString("N");
        Task? besideTask = null;
        _openRows.TryGetValue(machineId, out var open);
        var openKnown = open is not null;
        for (var attempt = 1; ; attempt++)
        {
            if (!openKnown)
            {
                var read = await table.GetEntityIfExistsAsync<TableEntity>(machineId, SaleEntities.OpenRowKey, cancellationToken: cancellationToken);
                open = read.HasValue ? read.Value : null;
                openKnown = true;
            }

            if (open?.GetString("Reference") is { } current)
            {
                if (current == reference)
                {
                    // Our own transaction landed and a retry of it (by the SDK) conflicted on the open marker: the
                    // reference is this call's own (random), so the sale is ours.
                    return await CreatedAsync(besideTask, machineId, await LandedAsync(reference, cancellationToken), cancellationToken);
                }

                // The machine's current sale under the same machine sale id: a replay, whatever its state.
                if (open.GetString("MachineSaleId") == sale.MachineSaleId)
                {
                    return await SettledAsync(besideTask, new SaleCreation(CreationOutcome.Replay, current, null));
                }

                if (await OccupiesMachineAsync(current, cancellationToken))
                {
                    // An older sale of this id is a replay, not a second sale.
                    return await SettledAsync(besideTask, await FindByMachineSaleIdAsync(machineId, sale.MachineSaleId, cancellationToken) is { } earlier
                        ? new SaleCreation(CreationOutcome.Replay, earlier, null)
                        : new SaleCreation(CreationOutcome.OpenSaleExists, current, null, open.GetString("MachineSaleId")));
                }
            }

            var openEntity = new TableEntity(machineId, SaleEntities.OpenRowKey)
            {
                ["Reference"] = reference,
                ["MachineSaleId"] = sale.MachineSaleId,
                ["ClaimedAt"] = sale.CreatedAt,
            };
            TableTransactionAction[] actions =
            [
                open is not null
                    ? new(TableTransactionActionType.UpdateReplace, openEntity, open.ETag)
                    : new(TableTransactionActionType.Add, openEntity),
                new(TableTransactionActionType.Add, new TableEntity(machineId, SaleEntities.ClaimRowKey(sale.MachineSaleId))
                {
                    ["Reference"] = reference,
                    ["ClaimId"] = claimId,
                    ["ClaimedAt"] = sale.CreatedAt,
                }),
                new(TableTransactionActionType.Add, new TableEntity(machineId, SaleEntities.ListingRowKey(sale.CreatedAt, reference))
                {
                    ["Reference"] = reference,
                    ["MachineSaleId"] = sale.MachineSaleId,
                    ["CreatedAt"] = sale.CreatedAt,
                }),
                new(TableTransactionActionType.Add, SaleEntities.ToEntity(sale, transitionId, dueAt)),
                new(TableTransactionActionType.Add, SaleEntities.ToEntity(reference, SaleTransitions.CreatedHistory(sale))),
            ];
            besideTask ??= beside?.Invoke();
            try
            {
                var response = await table.SubmitTransactionAsync(actions, cancellationToken);
                var openETag = ETagOf(response, OpenAction);
                if (openETag != default)
                {
                    openEntity.ETag = openETag;
                    _openRows[machineId] = openEntity;
                }
                else
                {
                    _openRows.TryRemove(machineId, out _);
                }

                var stored = Remember(new StoredSale(sale, ETagOf(response, StateAction), transitionId, dueAt));
                return await CreatedAsync(besideTask, machineId, stored, cancellationToken);
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412 && attempt < MaxCreateAttempts)
            {
                _openRows.TryRemove(machineId, out _);
                openKnown = false;
                if (exception.FailedTransactionActionIndex is ClaimAction or null
                    && await table.GetEntityIfExistsAsync<TableEntity>(machineId, SaleEntities.ClaimRowKey(sale.MachineSaleId), cancellationToken: cancellationToken) is { HasValue: true } claim)
                {
                    var claimed = claim.Value!.GetString("Reference")!;
                    if (claim.Value.GetString("ClaimId") != claimId)
                    {
                        return await SettledAsync(besideTask, new SaleCreation(CreationOutcome.Replay, claimed, null));
                    }

                    // Our own transaction landed and a retry of it (by the SDK) conflicted: the sale is ours.
                    return await CreatedAsync(besideTask, machineId, await LandedAsync(claimed, cancellationToken), cancellationToken);
                }

                // Another create of this machine moved first (the open row's ETag): look again.
                logger.LogDebug("Create of {Reference} raced another create of machine {MachineId}; looking again", reference, machineId);
            }
        }
    }

    public async Task<string?> FindByMachineSaleIdAsync(string machineId, string machineSaleId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(machineId, SaleEntities.ClaimRowKey(machineSaleId), select: ["Reference"], cancellationToken);
        return existing.HasValue ? existing.Value!.GetString("Reference") : null;
    }

    public async Task<IReadOnlyList<MachineSaleListing>> ListByMachineAsync(string machineId, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.Sales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {machineId} and RowKey ge {SaleEntities.ListingPrefix} and RowKey lt {TableKeys.RangeEnd(SaleEntities.ListingPrefix)}");
        var listing = new List<MachineSaleListing>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Clamp(max, 1, 1000), cancellationToken: cancellationToken))
        {
            listing.Add(new MachineSaleListing(row.GetString("Reference")!, row.GetString("MachineSaleId")!, row.GetDateTimeOffset("CreatedAt") ?? default));
            if (listing.Count >= max)
            {
                break;
            }
        }

        return listing;
    }

    private async Task<StoredSale> LandedAsync(string reference, CancellationToken cancellationToken) =>
        await LoadAsync(reference, cancellationToken)
        ?? throw new InvalidOperationException($"Sale {reference} was written with its claim in one transaction but cannot be read.");

    /// <summary>Whether the machine's previous sale still occupies it. A cached row that says "free" is taken (this
    /// instance saw it free, and a sale never occupies its machine again); one that says "occupied" is read again before
    /// a create is refused on it. The open row and its sale are written together, so the sale is there to read.</summary>
    private async Task<bool> OccupiesMachineAsync(string reference, CancellationToken cancellationToken)
    {
        if (CachedOrNull(reference) is { OccupiesMachine: false })
        {
            return false;
        }

        return await GetAsync(reference, cancellationToken) is { OccupiesMachine: true };
    }

    /// <summary>A failed work beside the create (the due row) fails the create: the machine's retry, a replay, does it
    /// again before answering.</summary>
    private async Task<SaleCreation> CreatedAsync(Task? besideTask, string machineId, StoredSale stored, CancellationToken cancellationToken)
    {
        if (besideTask is not null)
        {
            await besideTask;
        }

        await AddToDayListingAsync(machineId, stored.Sale.Reference, stored.Sale.CreatedAt, cancellationToken);
        return new SaleCreation(CreationOutcome.Created, stored.Sale.Reference, stored);
    }

    /// <summary>The answer of a create that wrote nothing; a due row written beside it for the proposed reference is
    /// left to the reconciler, which drops a row whose sale does not exist.</summary>
    private async Task<SaleCreation> SettledAsync(Task? besideTask, SaleCreation creation)
    {
        if (besideTask is not null)
        {
            try
            {
                await besideTask;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogDebug(exception, "Work beside the create of a sale that was not created failed; nothing depends on it");
            }
        }

        return creation;
    }

    /// <summary>
    /// The cross-machine listing (<c>SalesByDay</c>, docs/operator.md): partition = the UTC day, RowKey newest first.
    /// Another table, so not in the create's transaction: if this write fails the sale stands and stays in its machine's
    /// listing, and only the all-machines list misses it; the failure is logged rather than failing the sale.
    /// </summary>
    private async Task AddToDayListingAsync(string machineId, string reference, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.GetAsync(TableNames.SalesByDay, cancellationToken);
            await table.UpsertEntityAsync(new TableEntity(SalesByDayKeys.Partition(createdAt), SalesByDayKeys.RowKey(createdAt, reference))
            {
                ["Reference"] = reference,
                ["MachineId"] = machineId,
                ["CreatedAt"] = createdAt,
            }, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException exception)
        {
            logger.LogError(exception, "Sale {Reference} of machine {MachineId} is missing from the SalesByDay listing", reference, machineId);
        }
    }
}
