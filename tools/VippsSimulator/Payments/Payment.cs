using System.Text.Json.Nodes;

namespace VippsSimulator.Payments;

public enum PaymentState { CREATED, ABORTED, EXPIRED, AUTHORIZED, TERMINATED }

public enum PaymentEventName { CREATED, ABORTED, EXPIRED, CANCELLED, CAPTURED, REFUNDED, AUTHORIZED, TERMINATED }

public sealed record Money(string Currency, long Value);

/// <summary>One entry of the payment's event log (and the source of one webhook per matching registration).</summary>
public sealed record PaymentEvent(
    string Msn, string Reference, string PspReference, PaymentEventName Name, Money Amount, DateTimeOffset Timestamp,
    string? IdempotencyKey, bool Success);

/// <summary>Every call that reached a payment, accepted or not: what the ledger shows next to the money.</summary>
public sealed record LedgerOperation(
    DateTimeOffset At, string Operation, string? IdempotencyKey, int Status, string Outcome, long? Amount, bool Replayed);

/// <summary>A stored answer for an idempotency key, replayed byte for byte when the same key and body come again.</summary>
public sealed record StoredResponse(int Status, string ContentType, byte[] Body);

public sealed record IdempotencyRecord(JsonNode? Request, StoredResponse Response);

/// <summary>
/// A payment as Vipps keeps it. Every read and change happens under <see cref="Sync"/>: state, aggregate, event log,
/// ledger and idempotency records move together.
/// </summary>
public sealed class Payment
{
    public required string MerchantId { get; init; }
    public required string Msn { get; init; }
    public required string Reference { get; init; }
    public required Money Amount { get; init; }
    public required string PaymentMethodType { get; init; }
    public required string UserFlow { get; init; }
    public string? QrFormat { get; init; }
    public int QrSize { get; init; } = 1024;
    public string? Description { get; init; }
    public JsonObject? Receipt { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
    public string? ProfileScope { get; init; }
    /// <summary>Random, unguessable token in the QR and customer-page links (the real QR links carry one too).</summary>
    public required string CustomerToken { get; init; }
    public required string CreatedPspReference { get; init; }
    public required string CreateIdempotencyKey { get; init; }
    public required JsonNode? CreateRequest { get; init; }
    public StoredResponse? CreateResponse { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    public object Sync { get; } = new();
    public PaymentState State { get; set; } = PaymentState.CREATED;
    public long Authorized { get; set; }
    public long Captured { get; set; }
    public long Cancelled { get; set; }
    public long Refunded { get; set; }
    public DateTimeOffset? AuthorizedAt { get; set; }
    public DateTimeOffset? FirstCapturedAt { get; set; }
    /// <summary>The customer opened the payment (scanned the QR or opened the page) without deciding yet.</summary>
    public DateTimeOffset? OpenedAt { get; set; }

    public List<PaymentEvent> Events { get; } = new();
    public List<LedgerOperation> Operations { get; } = new();
    public Dictionary<(string Operation, string Key), IdempotencyRecord> Idempotency { get; } = new();

    public Money Of(long value) => new(Amount.Currency, value);
}
