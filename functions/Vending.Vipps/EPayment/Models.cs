using System.Text.Json.Serialization;

namespace Vending.Vipps.EPayment;

// Wire models of ePayment v1 (official spec copied in tests/VippsSimulator.Tests/Specs/epayment-openapi.yaml), only the parts the product uses.
// Property names are serialized camelCase; nulls are omitted on the wire.

public sealed record Amount(string Currency, long Value);

public sealed record PaymentMethod(string Type = "WALLET");

public sealed record QrFormat(string Format, int? Size = null)
{
    public const string TargetUrl = "TEXT/TARGETURL";
    public const string Svg = "IMAGE/SVG+XML";
    public const string Png = "IMAGE/PNG";
}

public sealed record OrderLine(
    string Name,
    string Id,
    long TotalAmount,
    long TotalAmountExcludingTax,
    long TotalTaxAmount,
    int TaxRate,
    UnitInfo? UnitInfo = null);

public sealed record UnitInfo(long UnitPrice, string Quantity, string QuantityUnit = "PCS");

public sealed record BottomLine(string Currency, string? PosId = null, string? ReceiptNumber = null);

public sealed record Receipt(IReadOnlyList<OrderLine> OrderLines, BottomLine BottomLine);

public sealed record CreatePaymentRequest(
    Amount Amount,
    PaymentMethod PaymentMethod,
    string Reference,
    string UserFlow,
    string? CustomerInteraction = null,
    string? PaymentDescription = null,
    QrFormat? QrFormat = null,
    Receipt? Receipt = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

public sealed record CreatePaymentResponse(string Reference, string? RedirectUrl);

public sealed record Aggregate(Amount AuthorizedAmount, Amount CancelledAmount, Amount CapturedAmount, Amount RefundedAmount);

/// <summary>GET /epayment/v1/payments/{reference}. <see cref="State"/> is one of <see cref="PaymentStates"/>.</summary>
public sealed record PaymentDetails(
    string Reference,
    string State,
    Amount Amount,
    Aggregate Aggregate,
    string PspReference);

public sealed record ModificationResponse(string Reference, string State, Amount Amount, Aggregate Aggregate, string PspReference);

/// <summary>An entry of the event log, and the body of a webhook (which adds <see cref="Msn"/>).</summary>
public sealed record PaymentEvent(
    string Reference,
    string PspReference,
    string Name,
    Amount Amount,
    DateTimeOffset Timestamp,
    bool Success,
    string? IdempotencyKey = null,
    [property: JsonPropertyName("msn")] string? Msn = null);

public static class PaymentStates
{
    public const string Created = "CREATED";
    public const string Authorized = "AUTHORIZED";
    public const string Aborted = "ABORTED";
    public const string Expired = "EXPIRED";
    public const string Terminated = "TERMINATED";
}

/// <summary>The eight <c>PaymentEventName</c> values.</summary>
public static class PaymentEventNames
{
    public const string Created = "CREATED";
    public const string Aborted = "ABORTED";
    public const string Expired = "EXPIRED";
    public const string Cancelled = "CANCELLED";
    public const string Captured = "CAPTURED";
    public const string Refunded = "REFUNDED";
    public const string Authorized = "AUTHORIZED";
    public const string Terminated = "TERMINATED";
}
