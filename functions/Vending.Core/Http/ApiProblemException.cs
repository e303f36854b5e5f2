namespace Vending.Core.Http;

/// <summary>
/// A refusal of the HTTP layer itself (body too large, malformed JSON, missing credentials, ...), thrown by the readers
/// and mapped to problem+json in one place (<see cref="HttpFunctionPipeline"/>). It carries its HTTP status because it
/// is HTTP's own; domain refusals come as <see cref="Sales.SaleException"/> with a kind instead, which the same place
/// turns into a status.
/// </summary>
public sealed class ApiProblemException(int status, string code, string title, string? field = null) : Exception(title)
{
    public int Status { get; } = status;

    /// <summary>Stable snake_case code clients branch on; documented in docs/http-api.md.</summary>
    public string Code { get; } = code;

    public string? Field { get; } = field;
}

/// <summary>The error codes of the HTTP layer. Clients branch on these, so they never change meaning.</summary>
public static class ApiErrors
{
    public const string BodyTooLarge = "body_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string InvalidJson = "invalid_json";
    public const string ValidationFailed = "validation_failed";
    public const string UnknownField = "unknown_field";
    public const string Unauthorized = "unauthorized";
    public const string InvalidSignature = "invalid_signature";
    public const string MerchantMismatch = "merchant_mismatch";
    public const string SaleNotFound = "sale_not_found";
    public const string RequestCancelled = "request_cancelled";
    public const string PaymentProviderUnavailable = "payment_provider_unavailable";
    public const string InternalError = "internal_error";

    public static ApiProblemException Validation(string field, string title) => new(400, ValidationFailed, title, field);

    public static ApiProblemException NotFound() => new(404, SaleNotFound, "No such sale for this machine.");
}
