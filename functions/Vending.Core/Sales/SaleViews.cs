using Vending.Core.Qr;

namespace Vending.Core.Sales;

/// <summary>What callers see of a sale, and its QR in the format the machine asked for.</summary>
public sealed class SaleViews(IQrRenderer qr)
{
    public const int DefaultQrSize = 400;

    public static SaleView ToView(Sale sale, SaleQr? qr = null) => new(
        sale.Reference,
        sale.MachineId,
        sale.MachineSaleId,
        sale.MerchantId,
        sale.State,
        sale.Currency,
        sale.Amount,
        sale.AuthorizedAmount,
        sale.CapturedAmount,
        sale.CancelledAmount,
        sale.RefundedAmount,
        sale.DeliveredAmount,
        sale.Lines.Select(line => new SaleLineView(line.ProductId, line.Name, line.Quantity, line.UnitPrice, line.TaxRate, line.TotalAmount)).ToList(),
        qr,
        sale.CreatedAt,
        sale.UpdatedAt,
        sale.ExpiresAt,
        sale.FailureCode);

    /// <summary>
    /// Target URL (approved merchants): rendered here as SVG or PNG, or handed over as the URL. Vipps image: handed over
    /// as fetched bytes (<paramref name="image"/>, when the machine asked for svg/png and the fetch worked) or as the
    /// image URL. The image link is never encoded into a QR of ours (it would not pay anything).
    /// </summary>
    public SaleQr? QrFor(Sale sale, FetchedImage? image)
    {
        if (sale.Qr is not { } source || sale.State != SaleState.Created)
        {
            return null;
        }

        var format = sale.QrRequest.Format;
        var size = sale.QrRequest.Size ?? DefaultQrSize;
        if (source.Kind == SaleQrSource.TargetUrl)
        {
            return format switch
            {
                "svg" => new SaleQr("svg", "image/svg+xml", qr.Svg(source.Url, size), null),
                "png" => new SaleQr("png", "image/png", Convert.ToBase64String(qr.Png(source.Url, size)), null),
                _ => new SaleQr("url", null, null, source.Url),
            };
        }

        return image is not null && format is "svg" or "png"
            ? new SaleQr(format, image.ContentType, format == "svg" ? System.Text.Encoding.UTF8.GetString(image.Bytes) : Convert.ToBase64String(image.Bytes), source.Url)
            : new SaleQr("url", null, null, source.Url);
    }
}

public sealed record FetchedImage(string ContentType, byte[] Bytes);
