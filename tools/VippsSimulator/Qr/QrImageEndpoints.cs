using QRCoder;
using VippsSimulator.Http;
using VippsSimulator.Payments;

namespace VippsSimulator.Qr;

/// <summary>
/// The stand-in for https://qr-image.vipps.no/v1?token=...: a real QR image (no auth, like Vipps) encoding the payment's
/// customer page, in the format and size the create request asked for. Gone (404) once the payment left CREATED.
/// </summary>
public static class QrImageEndpoints
{
    public static void MapQrImages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/qr-image/v1", (HttpContext context, string? token, PaymentStore store, VippsRequestPipeline pipeline) =>
        {
            var payment = token is null ? null : store.FindByToken(token);
            if (payment is null) return Results.NotFound();
            lock (payment.Sync)
            {
                if (payment.State != PaymentState.CREATED) return Results.NotFound();
            }
            var target = PaymentLinks.CustomerPage(pipeline.BaseUrl(context.Request), payment);
            return payment.QrFormat == "IMAGE/PNG"
                ? Results.Bytes(Png(target, payment.QrSize), "image/png")
                : Results.Text(Svg(target), "image/svg+xml");
        });
    }

    public static byte[] Png(string content, int size)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.M);
        // QRCoder scales by whole pixels per module, so the image is the largest size not above the requested one (at least 1 px per module).
        var modules = data.ModuleMatrix.Count;
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(Math.Max(1, size / modules));
    }

    public static string Svg(string content)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(content, QRCodeGenerator.ECCLevel.M);
        using var svg = new SvgQRCode(data);
        return svg.GetGraphic(8);
    }
}
