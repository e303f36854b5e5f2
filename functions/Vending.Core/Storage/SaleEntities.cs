using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Vending.Core.Machines;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>
/// How a sale's rows look in the <c>Sales</c> table: one partition per machine (PartitionKey = machine id, which the
/// reference names: <see cref="SaleReferences"/>). The machine's own rows are <c>open</c>, <c>id-{machineSaleId}</c> and
/// <c>t-{invertedTicks}-{reference}</c>; every row of one sale starts with <c>s-{reference}</c>: the state row is that
/// key itself, then <c>s-{reference}-h-{seq:D6}</c> (history), <c>s-{reference}-o-{seq:D6}</c> (outbox),
/// <c>s-{reference}-w-…</c> and <c>s-{reference}-x-…</c> (dedupe). All references of a machine have the same length, so
/// one sale's ranges never hold another's rows. docs/core.md, "Storage".
/// </summary>
internal static class SaleEntities
{
    public const string SalePrefix = "s-";
    public const string HistoryInfix = "h-";
    public const string TransitionIdProperty = "TransitionId";

    /// <summary>The machine's current sale (the guard for "one open sale per machine", replaced under its ETag).</summary>
    public const string OpenRowKey = "open";

    /// <summary><c>id-{machineSaleId}</c>: the idempotent create (its insert conflicts on a replay).</summary>
    public const string ClaimPrefix = "id-";

    /// <summary><c>t-{invertedTicks}-{reference}</c>: the machine's sales, newest first.</summary>
    public const string ListingPrefix = "t-";

    /// <summary>When the sale's row in the due index (<c>OpenSales</c>) is due; absent once the reconciler closed it.</summary>
    public const string DueAtProperty = "DueAt";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The machine partition a reference belongs to; false for anything that is not one of our references
    /// (such a sale does not exist: never a query with a made-up key).</summary>
    public static bool TryPartition(string? reference, out string partition) => SaleReferences.TryMachineOf(reference, out partition);

    public static string Partition(string reference) =>
        TryPartition(reference, out var partition) ? partition : throw new ArgumentException($"'{reference}' is not a sale reference.", nameof(reference));

    public static string StateRowKey(string reference) => SalePrefix + reference;

    /// <summary>Every row of the sale other than its state row starts with this.</summary>
    public static string RowPrefix(string reference) => $"{SalePrefix}{reference}-";

    public static string HistoryRowKey(string reference, long sequence) => $"{RowPrefix(reference)}{HistoryInfix}{sequence:D6}";

    public static string HistoryRangeStart(string reference) => RowPrefix(reference) + HistoryInfix;

    /// <summary>The dedupe row of a step (<paramref name="dedupeKey"/>: <c>w-…</c> for a Vipps event, <c>x-…</c> for an
    /// operator request) in the sale's range.</summary>
    public static string DedupeRowKey(string reference, string dedupeKey) => RowPrefix(reference) + dedupeKey;

    /// <summary>Whether a row of the <c>Sales</c> table is a sale's state row (not a machine row, not one of a sale's
    /// other rows).</summary>
    public static bool IsStateRow(TableEntity entity) =>
        entity.RowKey.StartsWith(SalePrefix, StringComparison.Ordinal)
        && TryPartition(entity.RowKey[SalePrefix.Length..], out var partition)
        && partition == entity.PartitionKey;

    public static string ClaimRowKey(string machineSaleId) => ClaimPrefix + machineSaleId;

    /// <summary>Inverted ticks sort the newest first (RowKeys sort ascending).</summary>
    public static string ListingRowKey(DateTimeOffset createdAt, string reference) =>
        $"{ListingPrefix}{DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks:D19}-{reference}";


    /// <summary><paramref name="transitionId"/> marks which write produced this version, so a retried write that
    /// already succeeded (and then reports 409/412) is recognised as ours.</summary>
    public static TableEntity ToEntity(Sale sale, string transitionId, DateTimeOffset? dueAt) => new(Partition(sale.Reference), StateRowKey(sale.Reference))
    {
        [DueAtProperty] = dueAt is { } due ? DueSchedule.Normalize(due) : null,
        [nameof(Sale.MachineId)] = sale.MachineId,
        [nameof(Sale.MachineSaleId)] = sale.MachineSaleId,
        [nameof(Sale.MerchantId)] = sale.MerchantId,
        [nameof(Sale.Currency)] = sale.Currency,
        [nameof(Sale.CaptureMode)] = sale.CaptureMode.ToString(),
        [nameof(Sale.State)] = sale.State.ToString(),
        [nameof(Sale.Amount)] = sale.Amount,
        [nameof(Sale.AuthorizedAmount)] = sale.AuthorizedAmount,
        [nameof(Sale.CapturedAmount)] = sale.CapturedAmount,
        [nameof(Sale.CancelledAmount)] = sale.CancelledAmount,
        [nameof(Sale.RefundedAmount)] = sale.RefundedAmount,
        [nameof(Sale.DeliveredAmount)] = sale.DeliveredAmount,
        [nameof(Sale.Lines)] = JsonSerializer.Serialize(sale.Lines, Json),
        [nameof(Sale.PaymentCreated)] = sale.PaymentCreated,
        [nameof(Sale.Qr)] = sale.Qr is null ? null : JsonSerializer.Serialize(sale.Qr, Json),
        [nameof(Sale.QrRequest)] = JsonSerializer.Serialize(sale.QrRequest, Json),
        [nameof(Sale.CreatedAt)] = sale.CreatedAt.ToUniversalTime(),
        [nameof(Sale.UpdatedAt)] = sale.UpdatedAt.ToUniversalTime(),
        [nameof(Sale.ExpiresAt)] = sale.ExpiresAt.ToUniversalTime(),
        [nameof(Sale.AuthorizedAt)] = sale.AuthorizedAt?.ToUniversalTime(),
        [nameof(Sale.FailureCode)] = sale.FailureCode,
        [nameof(Sale.Vend)] = sale.Vend is null ? null : JsonSerializer.Serialize(sale.Vend, Json),
        [nameof(Sale.CancelRequested)] = sale.CancelRequested,
        [nameof(Sale.VendDeadlineMissed)] = sale.VendDeadlineMissed,
        [nameof(Sale.ReleaseOnly)] = sale.ReleaseOnly,
        [nameof(Sale.Operations)] = JsonSerializer.Serialize(sale.Operations, Json),
        [nameof(Sale.HistorySequence)] = sale.HistorySequence,
        [nameof(Sale.OutboxSequence)] = sale.OutboxSequence,
        [nameof(Sale.LastDivergence)] = sale.LastDivergence,
        [nameof(Sale.ExpiryInferred)] = sale.ExpiryInferred,
        [nameof(Sale.LateVend)] = sale.LateVend is null ? null : JsonSerializer.Serialize(sale.LateVend, Json),
        [nameof(Sale.DeliveredNotChargedAmount)] = sale.DeliveredNotChargedAmount,
        [TransitionIdProperty] = transitionId,
    };

    public static DateTimeOffset? DueAt(TableEntity entity) => Time(entity, DueAtProperty) is { } due ? DueSchedule.Normalize(due) : null;

    public static Sale FromEntity(TableEntity entity) => new()
    {
        Reference = entity.RowKey[SalePrefix.Length..],
        MachineId = Text(entity, nameof(Sale.MachineId)),
        MachineSaleId = Text(entity, nameof(Sale.MachineSaleId)),
        MerchantId = Text(entity, nameof(Sale.MerchantId)),
        Currency = Text(entity, nameof(Sale.Currency)),
        CaptureMode = Enum.Parse<CaptureMode>(Text(entity, nameof(Sale.CaptureMode))),
        State = Enum.Parse<SaleState>(Text(entity, nameof(Sale.State))),
        Amount = Int64(entity, nameof(Sale.Amount)),
        AuthorizedAmount = Int64(entity, nameof(Sale.AuthorizedAmount)),
        CapturedAmount = Int64(entity, nameof(Sale.CapturedAmount)),
        CancelledAmount = Int64(entity, nameof(Sale.CancelledAmount)),
        RefundedAmount = Int64(entity, nameof(Sale.RefundedAmount)),
        DeliveredAmount = Int64(entity, nameof(Sale.DeliveredAmount)),
        Lines = FromJson<List<SaleLine>>(entity, nameof(Sale.Lines)) ?? [],
        PaymentCreated = entity.GetBoolean(nameof(Sale.PaymentCreated)) ?? false,
        Qr = FromJson<SaleQrSource>(entity, nameof(Sale.Qr)),
        QrRequest = FromJson<QrRequest>(entity, nameof(Sale.QrRequest)) ?? new QrRequest("url", null),
        CreatedAt = Time(entity, nameof(Sale.CreatedAt)) ?? throw Missing(entity, nameof(Sale.CreatedAt)),
        UpdatedAt = Time(entity, nameof(Sale.UpdatedAt)) ?? throw Missing(entity, nameof(Sale.UpdatedAt)),
        ExpiresAt = Time(entity, nameof(Sale.ExpiresAt)) ?? throw Missing(entity, nameof(Sale.ExpiresAt)),
        AuthorizedAt = Time(entity, nameof(Sale.AuthorizedAt)),
        FailureCode = entity.GetString(nameof(Sale.FailureCode)),
        Vend = FromJson<VendReport>(entity, nameof(Sale.Vend)),
        CancelRequested = entity.GetBoolean(nameof(Sale.CancelRequested)) ?? false,
        VendDeadlineMissed = entity.GetBoolean(nameof(Sale.VendDeadlineMissed)) ?? false,
        ReleaseOnly = entity.GetBoolean(nameof(Sale.ReleaseOnly)) ?? false,
        Operations = FromJson<List<SaleOperation>>(entity, nameof(Sale.Operations)) ?? [],
        HistorySequence = Int64(entity, nameof(Sale.HistorySequence)),
        OutboxSequence = Int64(entity, nameof(Sale.OutboxSequence)),
        LastDivergence = entity.GetString(nameof(Sale.LastDivergence)),
        ExpiryInferred = entity.GetBoolean(nameof(Sale.ExpiryInferred)) ?? false,
        LateVend = FromJson<VendReport>(entity, nameof(Sale.LateVend)),
        DeliveredNotChargedAmount = Int64(entity, nameof(Sale.DeliveredNotChargedAmount)),
    };

    public static TableEntity ToEntity(string reference, SaleHistoryEntry history) => new(Partition(reference), HistoryRowKey(reference, history.Sequence))
    {
        [nameof(SaleHistoryEntry.Sequence)] = history.Sequence,
        [nameof(SaleHistoryEntry.Time)] = history.Time.ToUniversalTime(),
        [nameof(SaleHistoryEntry.Type)] = history.Type,
        [nameof(SaleHistoryEntry.Detail)] = history.Detail,
        [nameof(SaleHistoryEntry.State)] = history.State.ToString(),
    };

    public static SaleHistoryEntry HistoryFromEntity(TableEntity entity) => new(
        Int64(entity, nameof(SaleHistoryEntry.Sequence)),
        Time(entity, nameof(SaleHistoryEntry.Time)) ?? DateTimeOffset.MinValue,
        Text(entity, nameof(SaleHistoryEntry.Type)),
        entity.GetString(nameof(SaleHistoryEntry.Detail)) ?? "",
        Enum.Parse<SaleState>(Text(entity, nameof(SaleHistoryEntry.State))));

    private static string Text(TableEntity entity, string name) => entity.GetString(name) ?? throw Missing(entity, name);

    private static long Int64(TableEntity entity, string name) => entity.TryGetValue(name, out var value) switch
    {
        true when value is long l => l,
        true when value is int i => i,
        _ => 0,
    };

    private static DateTimeOffset? Time(TableEntity entity, string name) => entity.TryGetValue(name, out var value) switch
    {
        true when value is DateTimeOffset dto => dto.ToUniversalTime(),
        true when value is DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        _ => null,
    };

    private static T? FromJson<T>(TableEntity entity, string name) where T : class =>
        entity.GetString(name) is { Length: > 0 } json ? JsonSerializer.Deserialize<T>(json, Json) : null;

    private static InvalidDataException Missing(TableEntity entity, string name) =>
        new($"Sale row {entity.PartitionKey}/{entity.RowKey} has no {name}.");
}
