using System.Text.RegularExpressions;
using VippsSimulator.Payments;
using VippsSimulator.Tests.Support;
using ZXing;
using ZXing.Common;
using ZXing.QrCode;

namespace VippsSimulator.Tests;

/// <summary>The customer's side: QR images, the customer page and its plain form posts, and the /_sim customer actions.</summary>
public sealed partial class CustomerFlowTests(SimulatorHarness sim) : IClassFixture<SimulatorHarness>
{
    [GeneratedRegex("data-testid=\"result\">([^<]*)<")] private static partial Regex ResultText();

    private async Task<(string Reference, string RedirectUrl)> Create(string? format, long value = 2500)
    {
        var reference = SimulatorHarness.NewReference();
        var created = (await sim.Create(SimulatorHarness.QrPayment(reference, value, format: format))).AssertStatus(201);
        return (reference, created.Json["redirectUrl"]!.GetValue<string>());
    }

    private string CustomerPage(string reference) => $"{sim.BaseUrl}/pay/{sim.Simulator.Ledger.CustomerToken(reference)}";

    [Fact]
    public async Task Png_qr_decodes_to_the_payment_customer_page()
    {
        var (reference, redirectUrl) = await Create("IMAGE/PNG");

        using var image = await sim.Http.GetAsync(redirectUrl);
        var png = await image.Content.ReadAsByteArrayAsync();

        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        var (luminance, width, height) = PngPixels.Decode(png);
        var bitmap = new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(luminance, width, height, RGBLuminanceSource.BitmapFormat.Gray8)));
        var decoded = new QRCodeReader().decode(bitmap);
        Assert.NotNull(decoded);
        Assert.Equal(CustomerPage(reference), decoded.Text);
        Assert.InRange(width, 600, 1024);
    }

    [Fact]
    public async Task Default_qr_format_is_an_svg_image()
    {
        var (_, redirectUrl) = await Create(null);

        using var image = await sim.Http.GetAsync(redirectUrl);

        Assert.Equal("image/svg+xml", image.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", await image.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Customer_page_shows_the_payment_and_approve_authorizes_it()
    {
        var (reference, redirectUrl) = await Create("TEXT/TARGETURL");

        var page = await sim.Http.GetStringAsync(redirectUrl);
        using var approve = await sim.Http.PostAsync($"{redirectUrl}/approve", new FormUrlEncodedContent([]));
        var after = await approve.Content.ReadAsStringAsync();

        Assert.Contains("Vipps", page);
        Assert.Contains("25.00 NOK", page);
        Assert.Contains("Cola 0.5 l", page);
        Assert.Contains("data-testid=\"approve\"", page);
        Assert.Contains("data-testid=\"abort\"", page);
        Assert.Equal("Waiting for your approval", ResultText().Match(page).Groups[1].Value);
        Assert.Equal("Payment approved", ResultText().Match(after).Groups[1].Value);
        Assert.DoesNotContain("data-testid=\"approve\"", after);
        var ledger = sim.Simulator.Ledger.Find(reference)!;
        Assert.Equal(PaymentState.AUTHORIZED, ledger.State);
        Assert.Equal(2500, ledger.Authorized);
        Assert.NotNull(ledger.OpenedAt);
    }

    [Fact]
    public async Task Abort_on_the_customer_page_aborts_with_a_zero_aggregate()
    {
        var (reference, redirectUrl) = await Create("TEXT/TARGETURL");

        using var abort = await sim.Http.PostAsync($"{redirectUrl}/abort", new FormUrlEncodedContent([]));

        Assert.Equal("Payment aborted", ResultText().Match(await abort.Content.ReadAsStringAsync()).Groups[1].Value);
        var get = await sim.Get(reference);
        Assert.Equal("ABORTED", get.Json["state"]!.GetValue<string>());
        Assert.Equal(0, get.Json["aggregate"]!["authorizedAmount"]!["value"]!.GetValue<long>());
        Assert.Equal(0, get.Json["aggregate"]!["cancelledAmount"]!["value"]!.GetValue<long>());
    }

    [Fact]
    public async Task Sim_routes_play_the_customer_over_http()
    {
        var (opened, _) = await Create(null);
        var (aborted, _) = await Create(null);

        using var open = await sim.Http.PostAsync($"{sim.BaseUrl}/_sim/payments/{opened}/open", null);
        using var abort = await sim.Http.PostAsync($"{sim.BaseUrl}/_sim/payments/{aborted}/abort", null);
        using var approveAborted = await sim.Http.PostAsync($"{sim.BaseUrl}/_sim/payments/{aborted}/approve", null);
        using var unknown = await sim.Http.PostAsync($"{sim.BaseUrl}/_sim/payments/{SimulatorHarness.NewReference()}/approve", null);

        Assert.Equal(200, (int)open.StatusCode);
        Assert.Equal(PaymentState.CREATED, sim.Simulator.Ledger.Find(opened)!.State);
        Assert.NotNull(sim.Simulator.Ledger.Find(opened)!.OpenedAt);
        Assert.Equal(200, (int)abort.StatusCode);
        Assert.Equal(409, (int)approveAborted.StatusCode);
        Assert.Equal(PaymentState.ABORTED, sim.Simulator.Ledger.Find(aborted)!.State);
        Assert.Equal(404, (int)unknown.StatusCode);
    }

    [Fact]
    public async Task Qr_image_is_gone_once_the_payment_is_decided()
    {
        var (reference, redirectUrl) = await Create("IMAGE/PNG");
        Assert.Null(sim.Simulator.Approve(reference));

        using var image = await sim.Http.GetAsync(redirectUrl);

        Assert.Equal(404, (int)image.StatusCode);
    }
}
