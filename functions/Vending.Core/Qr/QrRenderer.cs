using QRCoder;

namespace Vending.Core.Qr;

public interface IQrRenderer
{
    /// <summary>SVG text with a viewBox (scales to any screen; <paramref name="sizePx"/> sets its nominal size).</summary>
    string Svg(string content, int sizePx);

    /// <summary>PNG bytes, as close to <paramref name="sizePx"/> square as whole pixels per module allow (never smaller than 1 px per module).</summary>
    byte[] Png(string content, int sizePx);
}

/// <summary>QR codes for TEXT/TARGETURL merchants: we encode Vipps' target URL ourselves. Never used on a Vipps
/// QR image link (that link is shown as the image it is). No GDI+: QRCoder's SVG and PNG writers are managed code.</summary>
public sealed class QrRenderer : IQrRenderer
{
    // M: a quarter of the code may be damaged or dirty; a vending machine's screen is not always clean.
    private const QRCodeGenerator.ECCLevel ErrorCorrection = QRCodeGenerator.ECCLevel.M;

    public string Svg(string content, int sizePx)
    {
        using var data = QRCodeGenerator.GenerateQrCode(content, ErrorCorrection);
        var svg = new SvgQRCode(data);
        return svg.GetGraphic(new System.Drawing.Size(sizePx, sizePx), drawQuietZones: true, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
    }

    public byte[] Png(string content, int sizePx)
    {
        using var data = QRCodeGenerator.GenerateQrCode(content, ErrorCorrection);
        var modules = data.ModuleMatrix.Count; // includes the quiet zone
        var pixelsPerModule = Math.Max(1, sizePx / modules);
        return new PngByteQRCode(data).GetGraphic(pixelsPerModule);
    }
}
