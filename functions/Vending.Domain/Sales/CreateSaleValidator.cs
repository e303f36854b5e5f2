using System.Text.RegularExpressions;
using Vending.Domain.Machines;

namespace Vending.Domain.Sales;

/// <summary>A create request that passed validation: lines, their checked total, and the QR the machine wants.</summary>
public sealed record ValidatedSale(IReadOnlyList<SaleLine> Lines, long Amount, QrRequest Qr);

/// <summary>Checks a create request before anything is stored or sent. Refusals name the field at fault. The limits are
/// <see cref="InputLimits"/>, the same the HTTP reader applies first; this check stands for callers that bypass it.</summary>
public static partial class CreateSaleValidator
{
    public const int MaxLines = InputLimits.MaxLines;
    public const int MaxQuantity = InputLimits.MaxQuantity;

    /// <summary>ePayment's upper bound for an amount (minor units).</summary>
    public const long MaxAmount = InputLimits.MaxAmount;

    public static long MinimumAmount(string currency) => currency switch
    {
        "NOK" => 100, // 1 krone: Vipps refuses less (6010)
        _ => 1,
    };

    public static void ValidateMachineSaleId(string? machineSaleId)
    {
        if (machineSaleId is null || !MachineSaleIdRegex().IsMatch(machineSaleId))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_machine_sale_id", $"machineSaleId: 1 to {InputLimits.MachineSaleIdMaxLength} of A-Z, a-z, 0-9 and '-'.", "machineSaleId");
        }
    }

    public static ValidatedSale Validate(Machine machine, CreateSaleRequest request)
    {
        ValidateMachineSaleId(request.MachineSaleId);
        if (!string.Equals(request.Currency, machine.Currency, StringComparison.Ordinal))
        {
            throw new SaleException(RefusalKind.Invalid, "currency_mismatch", $"This machine sells in {machine.Currency}.", "currency");
        }

        if (request.Lines is not { Count: >= 1 and <= MaxLines } lines)
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_lines", $"A sale has 1 to {MaxLines} lines.", "lines");
        }

        var validated = new List<SaleLine>(lines.Count);
        long amount = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i] ?? throw new SaleException(RefusalKind.Invalid, "invalid_lines", $"Line {i} is empty.", $"lines[{i}]");
            if (line.ProductId is null || !ProductIdRegex().IsMatch(line.ProductId))
            {
                throw new SaleException(RefusalKind.Invalid, "invalid_product_id", $"productId: 1 to {InputLimits.ProductIdMaxLength} of A-Z, a-z, 0-9 and '.', '_', ':', '-'.", $"lines[{i}].productId");
            }

            if (validated.Any(existing => existing.ProductId == line.ProductId))
            {
                throw new SaleException(RefusalKind.Invalid, "duplicate_product", "Each product appears on one line (a partial vend names lines by product).", $"lines[{i}].productId");
            }

            // The name is shown to the customer (receipt, payment description): no control or format characters.
            if (string.IsNullOrWhiteSpace(line.Name) || line.Name.Length > InputLimits.LineNameMaxLength || !InputLimits.IsDisplayText(line.Name))
            {
                throw new SaleException(RefusalKind.Invalid, "invalid_line_name", $"name: 1 to {InputLimits.LineNameMaxLength} characters without control or format characters.", $"lines[{i}].name");
            }

            if (line.Quantity is < InputLimits.MinQuantity or > MaxQuantity)
            {
                throw new SaleException(RefusalKind.Invalid, "invalid_quantity", $"quantity: 1 to {MaxQuantity}.", $"lines[{i}].quantity");
            }

            if (line.UnitPrice < InputLimits.MinUnitPrice)
            {
                throw new SaleException(RefusalKind.Invalid, "invalid_unit_price", "unitPrice: positive, in minor units.", $"lines[{i}].unitPrice");
            }

            if (line.TaxRate is < 0 or > InputLimits.MaxTaxRate)
            {
                throw new SaleException(RefusalKind.Invalid, "invalid_tax_rate", $"taxRate: 0 to {InputLimits.MaxTaxRate} (2500 = 25 %).", $"lines[{i}].taxRate");
            }

            try
            {
                amount = checked(amount + checked(line.Quantity * line.UnitPrice));
            }
            catch (OverflowException)
            {
                throw new SaleException(RefusalKind.Invalid, "amount_out_of_range", $"The total exceeds {MaxAmount}.", "lines");
            }

            validated.Add(new SaleLine(line.ProductId, line.Name.Trim(), line.Quantity, line.UnitPrice, line.TaxRate));
        }

        if (amount > MaxAmount)
        {
            throw new SaleException(RefusalKind.Invalid, "amount_out_of_range", $"The total exceeds {MaxAmount}.", "lines");
        }

        if (amount < MinimumAmount(machine.Currency))
        {
            throw new SaleException(RefusalKind.Invalid, "amount_below_minimum", $"The total must be at least {MinimumAmount(machine.Currency)} {machine.Currency} minor units.", "lines");
        }

        return new ValidatedSale(validated, amount, ValidateQr(request.Qr, machine));
    }

    private static QrRequest ValidateQr(QrRequest? qr, Machine machine)
    {
        var format = string.IsNullOrEmpty(qr?.Format) ? machine.QrFormat : qr.Format.ToLowerInvariant();
        if (format is not ("svg" or "png" or "url"))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_qr_format", "qr.format: svg, png or url.", "qr.format");
        }

        if (qr?.Size is { } size && size is < InputLimits.MinQrSize or > InputLimits.MaxQrSize)
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_qr_size", $"qr.size: {InputLimits.MinQrSize} to {InputLimits.MaxQrSize} pixels.", "qr.size");
        }

        return new QrRequest(format, qr?.Size);
    }

    [GeneratedRegex(InputLimits.MachineSaleIdPattern)]
    private static partial Regex MachineSaleIdRegex();

    [GeneratedRegex(InputLimits.ProductIdPattern)]
    private static partial Regex ProductIdRegex();
}
