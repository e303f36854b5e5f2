namespace Vending.Domain.Sales;

/// <summary>What a machine asks of a sale: the create request and the vend report, as the transitions read them.</summary>
public sealed record CreateSaleRequest(
    string MachineSaleId,
    string Currency,
    IReadOnlyList<SaleLineRequest> Lines,
    QrRequest Qr);

public sealed record SaleLineRequest(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate);

/// <summary>Format "svg", "png" or "url"; Size in pixels for png (100..2000).</summary>
public sealed record QrRequest(string Format, int? Size);

public enum VendOutcome { Delivered, Failed, Partial }

/// <summary>For <see cref="VendOutcome.Partial"/>, <see cref="DeliveredLines"/> says what left the machine.</summary>
public sealed record VendReport(VendOutcome Outcome, IReadOnlyList<DeliveredLine>? DeliveredLines);

public sealed record DeliveredLine(string ProductId, int Quantity);
