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

public sealed record CreateSaleResult(SaleView Sale, bool Created);

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
