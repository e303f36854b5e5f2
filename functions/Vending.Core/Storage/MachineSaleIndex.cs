using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>MachineSales</c> table, partition = machine id: <c>id-{machineSaleId}</c> (the idempotent create),
/// <c>t-{invertedTicks}-{reference}</c> (newest-first listing), and <c>open</c> (the machine's current sale, the
/// guard for "one open sale per machine").
/// </summary>
public sealed class MachineSaleIndex(VendingTables tables, TimeProvider time, ILogger<MachineSaleIndex>? logger = null) : IMachineSaleIndex
{
    private const string OpenRowKey = "open";
    private const string IdPrefix = "id-";
    private const string ListingPrefix = "t-";
    private const int MaxAttempts = 5;

    /// <summary>Per instance: each machine's <c>open</c> row as last read or written, with its ETag. A stale one fails
    /// the claim's transaction (412) and is read again, so it only ever saves a read.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TableEntity> _openRows = new(StringComparer.Ordinal);

    public async Task<MachineSaleClaim> ClaimAsync(
        string machineId,
        string machineSaleId,
        string proposedReference,
        Func<string, DateTimeOffset, CancellationToken, Task<bool>> isStillOpen,
        CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.MachineSales, cancellationToken);
        var claimId = Guid.NewGuid().ToString("N");
        _openRows.TryGetValue(machineId, out var open);
        var openKnown = open is not null;
        for (var attempt = 1; ; attempt++)
        {
            if (!openKnown)
            {
                var read = await table.GetEntityIfExistsAsync<TableEntity>(machineId, OpenRowKey, cancellationToken: cancellationToken);
                open = read.HasValue ? read.Value : null;
                openKnown = true;
            }

            if (open is not null
                && await isStillOpen(open.GetString("Reference")!, open.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue, cancellationToken))
            {
                // The open sale itself, or an older one of this id: a replay, not a second sale.
                if (open.GetString("MachineSaleId") == machineSaleId)
                {
                    return new MachineSaleClaim(open.GetString("Reference")!, false);
                }

                if (await FindAsync(machineId, machineSaleId, cancellationToken) is { } earlier)
                {
                    return new MachineSaleClaim(earlier, false);
                }

                throw new SaleException(RefusalKind.Conflict, "open_sale_exists",
                    $"Machine {machineId} has an open sale ({open.GetString("MachineSaleId")}); finish or cancel it first.");
            }

            var now = time.GetUtcNow();
            var openEntity = new TableEntity(machineId, OpenRowKey)
            {
                ["Reference"] = proposedReference,
                ["MachineSaleId"] = machineSaleId,
                ["ClaimedAt"] = now,
            };
            TableTransactionAction[] actions =
            [
                open is not null
                    ? new(TableTransactionActionType.UpdateReplace, openEntity, open.ETag)
                    : new(TableTransactionActionType.Add, openEntity),
                // Index 1: its conflict means this machine sale id was claimed before (a replay).
                new(TableTransactionActionType.Add, new TableEntity(machineId, IdRowKey(machineSaleId))
                {
                    ["Reference"] = proposedReference,
                    ["ClaimId"] = claimId,
                    ["ClaimedAt"] = now,
                }),
                new(TableTransactionActionType.Add, new TableEntity(machineId, ListingRowKey(now, proposedReference))
                {
                    ["Reference"] = proposedReference,
                    ["MachineSaleId"] = machineSaleId,
                    ["CreatedAt"] = now,
                }),
            ];
            try
            {
                var response = await table.SubmitTransactionAsync(actions, cancellationToken);
                if (response.Value.Count > 0 && response.Value[0].Headers.ETag is { } etag)
                {
                    openEntity.ETag = etag;
                    _openRows[machineId] = openEntity;
                }
                else
                {
                    _openRows.TryRemove(machineId, out _);
                }

                await AddToDayListingAsync(machineId, proposedReference, now, cancellationToken);
                return new MachineSaleClaim(proposedReference, true);
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412 && attempt < MaxAttempts)
            {
                _openRows.TryRemove(machineId, out _);
                openKnown = false;
                if (exception.FailedTransactionActionIndex is 1 or null
                    && await table.GetEntityIfExistsAsync<TableEntity>(machineId, IdRowKey(machineSaleId), cancellationToken: cancellationToken) is { HasValue: true } existing)
                {
                    // Claimed before (our own claim, if a retried write of ours landed and then answered with a conflict).
                    return new MachineSaleClaim(existing.Value!.GetString("Reference")!, existing.Value.GetString("ClaimId") == claimId);
                }

                // Another create of this machine moved first: look again.
            }
        }
    }

    public async Task<string?> FindAsync(string machineId, string machineSaleId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.MachineSales, cancellationToken);
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(machineId, IdRowKey(machineSaleId), cancellationToken: cancellationToken);
        return existing.HasValue ? existing.Value!.GetString("Reference") : null;
    }

    public async Task<IReadOnlyList<MachineSaleListing>> ListAsync(string machineId, int max, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.MachineSales, cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {machineId} and RowKey ge {ListingPrefix} and RowKey lt {TableKeys.RangeEnd(ListingPrefix)}");
        var listing = new List<MachineSaleListing>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            listing.Add(new MachineSaleListing(row.GetString("Reference")!, row.GetString("MachineSaleId")!, row.GetDateTimeOffset("CreatedAt") ?? default));
            if (listing.Count >= max)
            {
                break;
            }
        }

        return listing;
    }

    /// <summary>
    /// The cross-machine listing (<c>SalesByDay</c>, docs/operator.md): partition = the UTC day, RowKey newest first.
    /// Another table, so not in the claim's transaction: if this write fails the sale stands and stays in its machine's
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
            logger?.LogError(exception, "Sale {Reference} of machine {MachineId} is missing from the SalesByDay listing", reference, machineId);
        }
    }

    private static string IdRowKey(string machineSaleId) => IdPrefix + machineSaleId;

    /// <summary>Inverted ticks sort the newest first (RowKeys sort ascending).</summary>
    private static string ListingRowKey(DateTimeOffset createdAt, string reference) =>
        $"{ListingPrefix}{DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks:D19}-{reference}";
}

/// <summary>Keys of the <c>SalesByDay</c> table: partition <c>d-{yyyyMMdd}</c> (UTC), RowKey <c>{invertedTicks}-{reference}</c>.</summary>
public static class SalesByDayKeys
{
    public static string Partition(DateTimeOffset at) => "d-" + at.UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);

    public static string RowKey(DateTimeOffset at, string reference) => $"{Inverted(at)}-{reference}";

    /// <summary>Inverted ticks, 19 digits: RowKeys sort newest first.</summary>
    public static string Inverted(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
}
