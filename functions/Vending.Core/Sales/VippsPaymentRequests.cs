using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Sales;

/// <summary>The ePayment create request of a sale. Built only from the stored sale, so every retry sends the same body
/// under the same idempotency key (a different body would be refused with 409).</summary>
public static class VippsPaymentRequests
{
    public const string CreateOperation = "create";

    public static CreatePaymentRequest For(Sale sale, VippsMerchantOptions merchant) => new(
        Amount: new Amount(sale.Currency, sale.Amount),
        PaymentMethod: new PaymentMethod("WALLET"),
        Reference: sale.Reference,
        UserFlow: "QR",
        CustomerInteraction: "CUSTOMER_PRESENT",
        PaymentDescription: Description(sale),
        QrFormat: QrFormatFor(sale, merchant),
        Receipt: new Receipt(sale.Lines.Select(OrderLineFor).ToList(), new BottomLine(sale.Currency, PosId: sale.MachineId)),
        Metadata: new Dictionary<string, string> { ["machineId"] = sale.MachineId, ["machineSaleId"] = sale.MachineSaleId });

    /// <summary>TEXT/TARGETURL only for approved merchants (we render the QR); otherwise Vipps' own QR image.</summary>
    public static QrFormat QrFormatFor(Sale sale, VippsMerchantOptions merchant) =>
        merchant.TargetUrlQrApproved ? new QrFormat(QrFormat.TargetUrl)
        : sale.QrRequest.Format == "png" ? new QrFormat(QrFormat.Png, sale.QrRequest.Size)
        : new QrFormat(QrFormat.Svg);

    /// <summary>A random reference naming its machine (<see cref="SaleReferences"/>): Vipps wants it unique per merchant,
    /// a reference built from machine and sale ids could collide across machines ("a-b"+"c" and "a"+"b-c"), and storage
    /// finds the machine's partition from it.</summary>
    public static string NewReference(string machineId) => SaleReferences.New(machineId);

    public static string CreateIdempotencyKey(string reference) => IdempotencyKeys.For(reference, CreateOperation);

    internal static OrderLine OrderLineFor(SaleLine line)
    {
        var total = line.TotalAmount;
        // Price includes tax: excluding = total / (1 + rate), rounded half up in minor units; the tax is the rest.
        var excluding = (total * 10000 + (10000 + line.TaxRate) / 2) / (10000 + line.TaxRate);
        return new OrderLine(line.Name, line.ProductId, total, excluding, total - excluding, line.TaxRate,
            new UnitInfo(line.UnitPrice, line.Quantity.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Description(Sale sale)
    {
        var items = string.Join(", ", sale.Lines.Select(line => line.Quantity == 1 ? line.Name : $"{line.Quantity} x {line.Name}"));
        var text = $"{sale.MachineId}: {items}";
        return text.Length <= 100 ? text : text[..97] + "...";
    }
}
