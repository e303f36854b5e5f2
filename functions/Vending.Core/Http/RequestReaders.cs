using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Vending.Core.Machines;
using Vending.Core.Sales;

namespace Vending.Core.Http;

/// <summary>
/// The request bodies and query strings of the public API, read strictly into the service records. Shape, types and
/// plain bounds are checked here; the rules of the business (is this currency sold, does a partial vend match the
/// sale) stay in the services, which refuse with <see cref="SaleException"/>.
/// </summary>
public static partial class RequestReaders
{
    /// <summary>Longest long-poll: below the usual 30 s proxy and client timeouts.</summary>
    public const int MaxWaitSeconds = 25;

    public static CreateSaleRequest ReadCreateSale(JsonElement json, string defaultQrFormat)
    {
        var body = JsonFields.Open(json, "", "machineSaleId", "currency", "lines", "qr");
        var machineSaleId = body.RequiredString("machineSaleId", InputLimits.MachineSaleIdMaxLength, MachineSaleId());
        var currency = body.RequiredString("currency", 3, Currency());
        var lines = body.RequiredArray("lines", 1, InputLimits.MaxLines, (item, path) =>
        {
            var line = JsonFields.Open(item, path, "productId", "name", "quantity", "unitPrice", "taxRate");
            return new SaleLineRequest(
                line.RequiredString("productId", InputLimits.ProductIdMaxLength, ProductId()),
                line.RequiredDisplayText("name", InputLimits.LineNameMaxLength),
                line.RequiredInt("quantity", InputLimits.MinQuantity, InputLimits.MaxQuantity),
                line.RequiredLong("unitPrice", InputLimits.MinUnitPrice, InputLimits.MaxAmount),
                line.RequiredInt("taxRate", 0, InputLimits.MaxTaxRate));
        });

        var qr = body.OptionalObject("qr", "format", "size");
        var format = qr?.OptionalString("format", 8, QrFormat()) ?? defaultQrFormat;
        var size = qr?.OptionalInt("size", InputLimits.MinQrSize, InputLimits.MaxQrSize);
        return new CreateSaleRequest(machineSaleId, currency, lines, new QrRequest(format, size));
    }

    public static VendReport ReadVendReport(JsonElement json)
    {
        var body = JsonFields.Open(json, "", "outcome", "deliveredLines");
        var outcome = body.RequiredEnum<VendOutcome>("outcome");
        var delivered = body.OptionalArray("deliveredLines", 1, InputLimits.MaxLines, (item, path) =>
        {
            var line = JsonFields.Open(item, path, "productId", "quantity");
            return new DeliveredLine(
                line.RequiredString("productId", InputLimits.ProductIdMaxLength, ProductId()),
                line.RequiredInt("quantity", 0, InputLimits.MaxDeliveredQuantity));
        });

        // Only a partial vend says what left the machine; anything else would be ambiguous.
        if (outcome == VendOutcome.Partial && delivered is null)
        {
            throw ApiErrors.Validation("deliveredLines", "deliveredLines is required when outcome is partial.");
        }

        if (outcome != VendOutcome.Partial && delivered is not null)
        {
            throw ApiErrors.Validation("deliveredLines", "deliveredLines is only allowed when outcome is partial.");
        }

        return new VendReport(outcome, delivered);
    }

    /// <summary>A cancel carries no data; an empty body or <c>{}</c>.</summary>
    public static bool ReadCancel(JsonElement json)
    {
        JsonFields.Open(json, "");
        return true;
    }

    public static ProvisionMachineRequest ReadProvisionMachine(JsonElement json)
    {
        var body = JsonFields.Open(json, "", "machineId", "name", "location", "merchantId", "currency", "captureMode", "qrFormat");
        return new ProvisionMachineRequest(
            body.RequiredString("machineId", 32, MachineId()),
            body.RequiredDisplayText("name", InputLimits.MachineNameMaxLength),
            body.RequiredDisplayText("location", InputLimits.MachineLocationMaxLength),
            body.RequiredString("merchantId", InputLimits.MerchantIdMaxLength, KeySafe()),
            body.RequiredString("currency", 3, Currency()),
            body.OptionalEnum<CaptureMode>("captureMode") ?? CaptureMode.OnDelivery,
            body.OptionalString("qrFormat", 8, QrFormat()) ?? "svg");
    }

    /// <summary><c>?wait=N&amp;state=S</c>: N seconds (0..25) of long-poll while the sale is in state S.</summary>
    public static PollQuery ReadPollQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var waitText = Single(query, "wait");
        var stateText = Single(query, "state");
        if (waitText is null)
        {
            return stateText is null ? new PollQuery(TimeSpan.Zero, null)
                : throw ApiErrors.Validation("wait", "state is only meaningful with wait.");
        }

        if (!int.TryParse(waitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds > MaxWaitSeconds)
        {
            throw ApiErrors.Validation("wait", $"wait must be a whole number of seconds from 0 to {MaxWaitSeconds}.");
        }

        if (seconds == 0)
        {
            return new PollQuery(TimeSpan.Zero, null);
        }

        if (stateText is null || stateText.Any(c => !char.IsLetter(c)) || !Enum.TryParse<SaleState>(stateText, ignoreCase: true, out var state))
        {
            throw ApiErrors.Validation("state", "state must name the sale state the machine already knows, e.g. Created.");
        }

        return new PollQuery(TimeSpan.FromSeconds(seconds), state);
    }

    /// <summary>Vipps references are 8..64 of [a-zA-Z0-9-] (<see cref="InputLimits.ReferencePattern"/>). Anything else cannot be a sale: answered as not found.</summary>
    public static string ReadReference(string? reference) =>
        reference is not null && Reference().IsMatch(reference) ? reference : throw ApiErrors.NotFound();

    /// <summary>A query value given at most once (null when absent); shared by every operator query reader.</summary>
    internal static string? Single(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        return values.Count == 1 ? values[0] : throw ApiErrors.Validation(name, $"{name} must be given once.");
    }

    // Our ids end up in Table Storage keys, which forbid '/', '\', '#', '?' and control characters.
    [GeneratedRegex("^[A-Za-z0-9._:-]+$")]
    private static partial Regex KeySafe();

    [GeneratedRegex(InputLimits.MachineSaleIdPattern)]
    private static partial Regex MachineSaleId();

    [GeneratedRegex(InputLimits.ProductIdPattern)]
    private static partial Regex ProductId();

    // The directory's own rule; it also keeps out the '.' that separates id and secret in an api key.
    [GeneratedRegex(InputLimits.MachineIdPattern)]
    private static partial Regex MachineId();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex Currency();

    [GeneratedRegex("^(svg|png|url)$")]
    private static partial Regex QrFormat();

    [GeneratedRegex(InputLimits.ReferencePattern)]
    private static partial Regex Reference();
}

/// <summary>A long-poll request: wait up to <see cref="Wait"/> while the sale is in <see cref="KnownState"/>.</summary>
public sealed record PollQuery(TimeSpan Wait, SaleState? KnownState);
