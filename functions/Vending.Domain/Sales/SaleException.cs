namespace Vending.Domain.Sales;

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
