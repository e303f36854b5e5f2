namespace VippsSimulator.Payments;

/// <summary>
/// The links a payment hands out. The customer page plays the part of the Vipps landing page and of the app screen the
/// QR leads to; the QR image stands in for https://qr-image.vipps.no/v1?token=...
/// </summary>
public static class PaymentLinks
{
    public static string CustomerPage(string baseUrl, Payment p) => $"{baseUrl}/pay/{p.CustomerToken}";

    public static string QrImage(string baseUrl, Payment p) => $"{baseUrl}/qr-image/v1?token={p.CustomerToken}";

    /// <summary>What <c>redirectUrl</c> holds: QR image link for image formats, the target URL for TEXT/TARGETURL, nothing for PUSH_MESSAGE.</summary>
    public static string? RedirectUrl(string baseUrl, Payment p) => p.UserFlow switch
    {
        "PUSH_MESSAGE" => null,
        "QR" when p.QrFormat is "IMAGE/SVG+XML" or "IMAGE/PNG" => QrImage(baseUrl, p),
        _ => CustomerPage(baseUrl, p),
    };
}
