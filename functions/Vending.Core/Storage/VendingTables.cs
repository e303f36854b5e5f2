using System.Collections.Concurrent;
using Azure.Data.Tables;

namespace Vending.Core.Storage;

/// <summary>Table names (docs/ARCHITECTURE.md; Bicep declares them too).</summary>
public static class TableNames
{
    public const string Sales = "Sales";
    public const string OpenSales = "OpenSales";
    public const string Machines = "Machines";
    public const string UnmatchedWebhooks = "UnmatchedWebhooks";
    public const string OperatorAudit = "OperatorAudit";
    public const string SalesByDay = "SalesByDay";
}

/// <summary>
/// Hands out table clients, creating each table at most once per process (on first use, never at start-up: no
/// network call at boot). A failed creation is forgotten so the next use tries again.
/// </summary>
public sealed class VendingTables(TableServiceClient service)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<TableClient>>> _tables = new(StringComparer.Ordinal);

    public async Task<TableClient> GetAsync(string tableName, CancellationToken cancellationToken)
    {
        var lazy = _tables.GetOrAdd(tableName, name => new Lazy<Task<TableClient>>(() => CreateAsync(name)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _tables.TryRemove(new KeyValuePair<string, Lazy<Task<TableClient>>>(tableName, lazy));
            throw;
        }
    }

    private async Task<TableClient> CreateAsync(string tableName)
    {
        var client = service.GetTableClient(tableName);
        try
        {
            // Not the caller's token: a cancelled first caller must not poison the creation shared by everyone.
            await client.CreateIfNotExistsAsync(CancellationToken.None);
        }
        catch (Azure.RequestFailedException exception) when (exception.Status == 403)
        {
            // In Azure the tables come from infra/main.bicep and the app's role is scoped to each table, which does
            // not cover the account-level create call: the table exists, use it (docs/deploy.md, roles).
        }

        return client;
    }
}

internal static class TableKeys
{
    /// <summary>RowKeys may not contain / \ # ? or control characters; values from outside are made safe.</summary>
    public static string Safe(string value)
    {
        var chars = value.Select(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c) ? '_' : c).ToArray();
        return new string(chars);
    }

    /// <summary>An exclusive upper bound for a RowKey prefix ending in '-' ('.' follows '-').</summary>
    public static string RangeEnd(string prefixEndingInDash) => prefixEndingInDash[..^1] + ".";
}
