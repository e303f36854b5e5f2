namespace Vending.Domain.Sales;

/// <summary>A refusal the caller can act on. <see cref="Code"/> is stable (snake_case) and documented in the README;
/// <see cref="Status"/> is the HTTP status it maps to; <see cref="Field"/> names the request field at fault, if any.</summary>
public sealed class SaleException(int status, string code, string message, string? field = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? Field { get; } = field;
}
