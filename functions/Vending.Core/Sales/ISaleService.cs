using Vending.Core.Machines;

namespace Vending.Core.Sales;

/// <summary>
/// The sale's application service: what the HTTP handlers, the command runner, the reconciler and the tests call.
/// Domain refusals are thrown as <see cref="SaleException"/> (a stable code and the field at fault);
/// the HTTP layer maps them to problem+json.
/// </summary>
public interface ISaleService
{
    /// <summary>Creates a sale and its Vipps payment. The same machine and machine sale id return the same sale
    /// (<see cref="CreateSaleResult.Created"/> false), whatever the body of the retry.</summary>
    Task<CreateSaleResult> CreateAsync(Machine machine, CreateSaleRequest request, CancellationToken cancellationToken);

    /// <summary>The sale if it belongs to <paramref name="machineId"/>, else null (another machine's sale is "not found").</summary>
    Task<SaleView?> GetAsync(string machineId, string reference, CancellationToken cancellationToken);

    /// <summary>Long-poll: returns as soon as the sale's state differs from <paramref name="knownState"/>, or after
    /// <paramref name="maxWait"/> with the sale as it is. Null when the sale is not this machine's.</summary>
    Task<SaleView?> WaitForChangeAsync(string machineId, string reference, SaleState knownState, TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>The vend outcome: delivered (capture all), failed (cancel), partial (capture the delivered lines, cancel the rest).
    /// Idempotent: the same report again returns the sale; a different second report is refused.</summary>
    Task<SaleView> ReportVendAsync(string machineId, string reference, VendReport report, CancellationToken cancellationToken);

    /// <summary>The customer gave up or the machine timed out: cancelTransactionOnly while not authorized; a release if authorized.</summary>
    Task<SaleView> CancelAsync(string machineId, string reference, CancellationToken cancellationToken);

    /// <summary>A verified webhook (signature already checked). Duplicates are absorbed; unknown references are recorded with no effect.</summary>
    Task<WebhookOutcome> RecordWebhookAsync(string merchantId, Vending.Vipps.EPayment.PaymentEvent paymentEvent, CancellationToken cancellationToken);
}

public sealed record CreateSaleRequest(
    string MachineSaleId,
    string Currency,
    IReadOnlyList<SaleLineRequest> Lines,
    QrRequest Qr);

public sealed record SaleLineRequest(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate);

/// <summary>Format "svg", "png" or "url"; Size in pixels for png (100..2000).</summary>
public sealed record QrRequest(string Format, int? Size);

public sealed record CreateSaleResult(SaleView Sale, bool Created);

public enum VendOutcome { Delivered, Failed, Partial }

/// <summary>For <see cref="VendOutcome.Partial"/>, <see cref="DeliveredLines"/> says what left the machine.</summary>
public sealed record VendReport(VendOutcome Outcome, IReadOnlyList<DeliveredLine>? DeliveredLines);

public sealed record DeliveredLine(string ProductId, int Quantity);

public enum WebhookOutcome { Applied, Duplicate, UnknownReference, Ignored }

/// <summary>What a machine (and an operator) sees of a sale. Money in minor units of <see cref="Currency"/>.</summary>
public sealed record SaleView(
    string Reference,
    string MachineId,
    string MachineSaleId,
    string MerchantId,
    SaleState State,
    string Currency,
    long Amount,
    long AuthorizedAmount,
    long CapturedAmount,
    long CancelledAmount,
    long RefundedAmount,
    long DeliveredAmount,
    IReadOnlyList<SaleLineView> Lines,
    SaleQr? Qr,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset ExpiresAt,
    string? FailureCode);

public sealed record SaleLineView(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate, long TotalAmount);

/// <summary>The QR for the machine's screen. Format "svg" (Data = SVG text), "png" (Data = base64 PNG) or "url"
/// (Url = the Vipps QR image, or for TEXT/TARGETURL merchants the target URL itself).</summary>
public sealed record SaleQr(string Format, string? ContentType, string? Data, string? Url);

/// <summary>A refusal the caller can act on. <see cref="Code"/> is stable (snake_case) and documented in the README;
/// <see cref="Kind"/> says what sort of refusal it is (the HTTP adapter alone turns that into a status);
/// <see cref="Field"/> names the request field at fault, if any.</summary>
public sealed class SaleException(RefusalKind kind, string code, string message, string? field = null) : Exception(message)
{
    public RefusalKind Kind { get; } = kind;
    public string Code { get; } = code;
    public string? Field { get; } = field;
}

/// <summary>
/// What sort of refusal a <see cref="SaleException"/> is, in the domain's words. The domain knows no HTTP: the HTTP
/// adapter maps each kind to a status in one table (<c>Vending.Core.Http.HttpFunctionPipeline.StatusOf</c>).
/// </summary>
public enum RefusalKind
{
    /// <summary>The request itself is wrong (a field out of range, an unknown value): the same request never succeeds.</summary>
    Invalid,

    /// <summary>The caller may not do this at all (a disabled machine).</summary>
    NotPermitted,

    /// <summary>No such thing for this caller.</summary>
    NotFound,

    /// <summary>The thing exists but its state does not allow this (not yet, or no longer).</summary>
    Conflict,

    /// <summary>Vipps MobilePay did not answer in time; the same request may succeed shortly.</summary>
    ProviderUnavailable,

    /// <summary>Vipps MobilePay answered, but without what the step needs.</summary>
    ProviderFailed,

    /// <summary>Our own configuration lacks what the request needs (an operator must fix it; the caller cannot).</summary>
    NotConfigured,
}
