using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Sales;

namespace VendingFunctions.Tests;

internal static class Fakes
{
    public static readonly DateTimeOffset Now = new(2025, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static Machine Machine(string id = "machine-1") =>
        new(id, "Lobby", "Oslo", "vippsno", "NOK", CaptureMode.OnDelivery, "svg", Enabled: true, Now);

    public static SaleView Sale(string reference = "sale-0001-abcd", SaleState state = SaleState.Created, string machineId = "machine-1") =>
        new(reference, machineId, "m-1", "vippsno", state, "NOK", 2500, 0, 0, 0, 0, 0,
            [new SaleLineView("cola", "Cola", 1, 2500, 2500, 2500)],
            new SaleQr("svg", "image/svg+xml", "<svg/>", null), Now, Now, Now.AddMinutes(5), null);

    public static HttpApiOptions Options(int maxBodyBytes = 16_384) =>
        new() { PublicBaseUrl = new Uri("https://vending.example"), MaxRequestBodyBytes = maxBodyBytes, WebhookClockSkewSeconds = 300 };

    /// <summary>A directory that knows exactly one key, <see cref="TestHttp.MachineKey"/>.</summary>
    public static Mock<IMachineDirectory> Directory()
    {
        var directory = new Mock<IMachineDirectory>(MockBehavior.Strict);
        directory.Setup(d => d.AuthenticateAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string key, CancellationToken _) => key == TestHttp.MachineKey ? Machine() : null);
        return directory;
    }

    public static HttpApi Api(IMachineDirectory directory, HttpApiOptions? options = null) =>
        new(new MachineAuthenticator(directory, NullLogger<MachineAuthenticator>.Instance),
            new RequestBodyReader(Microsoft.Extensions.Options.Options.Create(options ?? Options())),
            NullLogger<HttpApi>.Instance);
}
