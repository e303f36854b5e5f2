using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VippsSimulator.Auth;
using VippsSimulator.Http;

namespace VippsSimulator.Payments;

/// <summary>A create request that passed validation: what the simulator needs to keep.</summary>
public sealed record CreatePaymentCommand(
    string Reference, Money Amount, string PaymentMethodType, string UserFlow, string? QrFormat, int QrSize,
    string? Description, JsonObject? Receipt, Dictionary<string, string>? Metadata, string? ProfileScope, DateTimeOffset? ExpiresAt);

/// <summary>
/// Validates <c>CreatePaymentRequest</c> as strictly as the spec (v1.8.1) and the documented error codes: schema first
/// (unknown fields rejected, as Vipps does per its agent toolkit), then the merchant- and time-dependent rules.
/// </summary>
public static partial class CreatePaymentValidator
{
    public static readonly string[] Currencies = ["NOK", "DKK", "EUR", "SEK", "USD", "GBP"];
    private static readonly string[] CardPassthroughOnlyCurrencies = ["SEK", "USD", "GBP"];
    private static readonly Dictionary<string, long> MinimumAmounts = new() { ["NOK"] = 100, ["DKK"] = 1, ["EUR"] = 1, ["SEK"] = 100, ["USD"] = 1, ["GBP"] = 1 };
    private static readonly string[] UserFlows = ["PUSH_MESSAGE", "NATIVE_REDIRECT", "WEB_REDIRECT", "QR"];
    private static readonly string[] PaymentMethodTypes = ["WALLET", "CARD", "CARD_PASSTHROUGH"];
    private static readonly string[] QrFormats = ["TEXT/TARGETURL", "IMAGE/SVG+XML", "IMAGE/PNG"];
    private static readonly string[] Scopes = ["name", "address", "email", "phoneNumber", "birthDate", "nin"];
    private static readonly string[] QuantityUnits = ["PCS", "KG", "KM", "MINUTE", "LITRE", "KWH"];

    private static readonly string[] TopLevel =
    [
        "amount", "customer", "minimumUserAge", "customerInteraction", "industryData", "paymentMethod", "profile", "reference",
        "returnUrl", "userFlow", "expiresAt", "qrFormat", "paymentDescription", "receipt", "metadata", "receiptUrl", "shipping",
        "cardPassthrough",
    ];

    [GeneratedRegex("^[a-zA-Z0-9-]{8,64}$")] public static partial Regex ReferencePattern();
    [GeneratedRegex(@"^\d{9,15}$")] private static partial Regex PhonePattern();
    [GeneratedRegex(@"^\d+([\.]\d{1,8})?$")] private static partial Regex QuantityPattern();
    [GeneratedRegex(@"^((?:(\d{4}-\d{2}-\d{2})(T|t)(\d{2}:\d{2}:\d{2}(?:\.\d+)?))(Z|z|([+-](?:2[0-3]|[01][0-9]):[0-5][0-9])))$")]
    private static partial Regex ExpiresAtPattern();

    public static (CreatePaymentCommand? Command, VippsError? Error) Validate(JsonElement body, Merchant merchant, DateTimeOffset now)
    {
        var shape = new JsonShape();
        if (!shape.Object(body, "", TopLevel, "amount", "paymentMethod", "reference", "userFlow")) return (null, shape.ToError());

        string? reference = null, userFlow = null, methodType = null, qrFormat = null, description = null, scope = null;
        Money? amount = null;
        int qrSize = 1024;
        JsonObject? receipt = null;
        Dictionary<string, string>? metadata = null;
        DateTimeOffset? expiresAt = null;

        if (JsonShape.Has(body, "reference", out var r)) reference = shape.String(r, "reference", pattern: ReferencePattern());
        if (JsonShape.Has(body, "amount", out var a)) amount = ReadAmount(shape, a, "amount");
        if (JsonShape.Has(body, "userFlow", out var uf)) userFlow = shape.String(uf, "userFlow", oneOf: UserFlows);
        if (JsonShape.Has(body, "paymentMethod", out var pm) && shape.Object(pm, "paymentMethod", ["type", "blockedSources"], "type"))
        {
            if (JsonShape.Has(pm, "type", out var t)) methodType = shape.String(t, "paymentMethod.type", oneOf: PaymentMethodTypes, code: "4160");
            if (JsonShape.Has(pm, "blockedSources", out var bs)) ReadBlockedSources(shape, bs, amount);
        }
        if (JsonShape.Has(body, "customer", out var c)) ReadCustomer(shape, c, "customer");
        if (JsonShape.Has(body, "minimumUserAge", out var age)) shape.Integer(age, "minimumUserAge", 0, 100);
        if (JsonShape.Has(body, "customerInteraction", out var ci)) shape.String(ci, "customerInteraction", oneOf: ["CUSTOMER_PRESENT", "CUSTOMER_NOT_PRESENT"]);
        if (JsonShape.Has(body, "industryData", out var ind)) ReadIndustryData(shape, ind);
        if (JsonShape.Has(body, "profile", out var prof) && shape.Object(prof, "profile", ["scope"]) && JsonShape.Has(prof, "scope", out var sc))
        {
            scope = shape.String(sc, "profile.scope");
            if (scope is not null && scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(s => !Scopes.Contains(s)))
                shape.Fail("profile.scope", $"Scopes must be among {string.Join(" ", Scopes)}.", "4080");
        }
        if (JsonShape.Has(body, "returnUrl", out var ru)) ReadUrl(shape, ru, "returnUrl", 2500);
        if (JsonShape.Has(body, "receiptUrl", out var rcu)) ReadUrl(shape, rcu, "receiptUrl", null);
        if (JsonShape.Has(body, "paymentDescription", out var pd)) description = shape.String(pd, "paymentDescription", 3, 100);
        if (JsonShape.Has(body, "qrFormat", out var qf) && shape.Object(qf, "qrFormat", ["format", "size"], "format"))
        {
            if (JsonShape.Has(qf, "format", out var f)) qrFormat = shape.String(f, "qrFormat.format", oneOf: QrFormats);
            if (JsonShape.Has(qf, "size", out var s) && shape.Integer(s, "qrFormat.size", 100, 2000) is { } size) qrSize = (int)size;
        }
        if (JsonShape.Has(body, "receipt", out var rc) && ReadReceipt(shape, rc)) receipt = JsonNode.Parse(rc.GetRawText())!.AsObject();
        if (JsonShape.Has(body, "metadata", out var md)) metadata = ReadMetadata(shape, md);
        if (JsonShape.Has(body, "expiresAt", out var ea))
        {
            var text = shape.String(ea, "expiresAt", pattern: ExpiresAtPattern());
            if (text is not null) expiresAt = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        }
        if (JsonShape.Has(body, "shipping", out _)) shape.Fail("shipping", "Express checkout is not enabled for this merchant.", "5020");
        if (JsonShape.Has(body, "cardPassthrough", out _)) shape.Fail("cardPassthrough", "Card passthrough is only available to PSPs.", "4160");
        if (shape.HasErrors) return (null, shape.ToError());

        // Rules across fields and against the merchant, each with the code Vipps documents for it.
        if (CardPassthroughOnlyCurrencies.Contains(amount!.Currency) && methodType != "CARD_PASSTHROUGH" || !merchant.Accepts(amount.Currency))
            return (null, VippsError.BadRequest("5040", "Invalid currency", $"The sales unit does not accept {amount.Currency}."));
        if (amount.Value < MinimumAmounts[amount.Currency])
            return (null, VippsError.BadRequest("6010", "Amount too small", $"The minimum amount in {amount.Currency} is {MinimumAmounts[amount.Currency]} minor units."));
        if (methodType == "CARD_PASSTHROUGH" || methodType == "CARD" && userFlow != "WEB_REDIRECT")
            return (null, VippsError.BadRequest("4160", "Invalid payment method type", $"{methodType} is not available with userFlow {userFlow} for this merchant."));
        if (userFlow == "PUSH_MESSAGE" && !JsonShape.Has(body, "customer", out _))
            return (null, Field("customer", "PUSH_MESSAGE needs a customer.", "4140"));
        if (userFlow == "WEB_REDIRECT" && !JsonShape.Has(body, "returnUrl", out _))
            return (null, Field("returnUrl", "WEB_REDIRECT needs a returnUrl.", "4140"));
        if (qrFormat is not null && userFlow != "QR")
            return (null, Field("qrFormat", "qrFormat is only applicable when userFlow is QR."));
        if (qrFormat == "TEXT/TARGETURL" && !merchant.Options.TargetUrlQrApproved)
            return (null, Field("qrFormat.format", "TEXT/TARGETURL is not approved for this merchant."));
        if (receipt is not null && methodType != "WALLET")
            return (null, Field("receipt", "A receipt is only supported with paymentMethod WALLET."));
        if (receipt is not null && receipt["bottomLine"]?["currency"]?.GetValue<string>() != amount.Currency)
            return (null, Field("receipt.bottomLine.currency", "Must be the currency of the amount."));
        if (expiresAt is { } expiry)
        {
            if (!merchant.Options.LongLivingPaymentsApproved)
                return (null, VippsError.BadRequest("5050", "Long-living payments not allowed", "The sales unit is not approved for expiresAt."));
            if (expiry <= now.AddMinutes(10)) return (null, VippsError.BadRequest("6120", "Expiry too soon", "expiresAt must be more than 10 minutes ahead."));
            if (expiry >= now.AddDays(60)) return (null, VippsError.BadRequest("6110", "Expiry too late", "expiresAt must be less than 60 days ahead."));
            if (receipt is null) return (null, VippsError.BadRequest("6130", "Long-living payment needs a receipt"));
        }

        qrFormat ??= userFlow == "QR" ? "IMAGE/SVG+XML" : null;
        return (new CreatePaymentCommand(reference!, amount, methodType!, userFlow!, qrFormat, qrSize, description, receipt, metadata, scope, expiresAt), null);
    }

    private static VippsError Field(string name, string reason, string? code = null) =>
        VippsError.Validation([new ExtraDetail(name, reason)], code);

    /// <summary>An <c>Amount</c>: fractions and out-of-range values are 4040 (invalid amount).</summary>
    public static Money? ReadAmount(JsonShape shape, JsonElement element, string path)
    {
        if (!shape.Object(element, path, ["currency", "value"], "currency", "value")) return null;
        string? currency = null;
        long? value = null;
        if (JsonShape.Has(element, "currency", out var c)) currency = shape.String(c, $"{path}.currency", oneOf: Currencies);
        if (JsonShape.Has(element, "value", out var v)) value = shape.Integer(v, $"{path}.value", 0, 65_000_000, "4040");
        return currency is not null && value is not null ? new Money(currency, value.Value) : null;
    }

    private static void ReadBlockedSources(JsonShape shape, JsonElement element, Money? amount)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            shape.Fail("paymentMethod.blockedSources", "Must be an array.");
            return;
        }
        foreach (var item in element.EnumerateArray()) shape.String(item, "paymentMethod.blockedSources[]", oneOf: ["COMMERCIAL_CARDS"]);
        if (amount is not null && amount.Currency == "NOK")
            shape.Fail("paymentMethod.blockedSources", "Blocking payment sources applies only in Denmark and Finland.", "5010");
    }

    private static void ReadCustomer(JsonShape shape, JsonElement element, string path)
    {
        if (!shape.Object(element, path, ["phoneNumber", "personalQr", "customerToken"])) return;
        var given = element.EnumerateObject().Count(p => p.Value.ValueKind != JsonValueKind.Null);
        if (given != 1)
        {
            shape.Fail(path, "Give exactly one of phoneNumber, personalQr and customerToken.");
            return;
        }
        if (JsonShape.Has(element, "phoneNumber", out var phone)) shape.String(phone, $"{path}.phoneNumber", 9, 15, PhonePattern(), code: "4070");
        if (JsonShape.Has(element, "personalQr", out var qr)) shape.String(qr, $"{path}.personalQr", 5, 255, code: "4060");
        if (JsonShape.Has(element, "customerToken", out var token)) shape.String(token, $"{path}.customerToken", 1, code: "4050");
    }

    private static void ReadIndustryData(JsonShape shape, JsonElement element)
    {
        if (!shape.Object(element, "industryData", ["airlineData"]) || !JsonShape.Has(element, "airlineData", out var airline)) return;
        const string p = "industryData.airlineData";
        if (!shape.Object(airline, p, ["agencyInvoiceNumber", "airlineCode", "airlineDesignatorCode", "passengerName", "ticketNumber"],
                "agencyInvoiceNumber", "airlineCode", "airlineDesignatorCode", "passengerName")) return;
        if (JsonShape.Has(airline, "agencyInvoiceNumber", out var x1)) shape.String(x1, $"{p}.agencyInvoiceNumber", 1, 6);
        if (JsonShape.Has(airline, "airlineCode", out var x2)) shape.String(x2, $"{p}.airlineCode", 3, 3);
        if (JsonShape.Has(airline, "airlineDesignatorCode", out var x3)) shape.String(x3, $"{p}.airlineDesignatorCode", 2, 2);
        if (JsonShape.Has(airline, "passengerName", out var x4)) shape.String(x4, $"{p}.passengerName", 1, 49);
        if (JsonShape.Has(airline, "ticketNumber", out var x5)) shape.String(x5, $"{p}.ticketNumber", 1, 150);
    }

    /// <summary>https:// or a custom app scheme; plain http is refused (4090), as Vipps validates URLs.</summary>
    private static void ReadUrl(JsonShape shape, JsonElement element, string path, int? maxLength)
    {
        var text = shape.String(element, path, maxLength: maxLength, code: "4090");
        if (text is null) return;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme == Uri.UriSchemeHttp)
            shape.Fail(path, "Must be an absolute https:// or custom-scheme URL.", "4090");
    }

    private static bool ReadReceipt(JsonShape shape, JsonElement element)
    {
        if (!shape.Object(element, "receipt", ["orderLines", "bottomLine"], "orderLines", "bottomLine")) return false;
        var before = shape.HasErrors;
        if (JsonShape.Has(element, "orderLines", out var lines))
        {
            if (lines.ValueKind != JsonValueKind.Array || lines.GetArrayLength() == 0) shape.Fail("receipt.orderLines", "Must be an array with at least one order line.");
            else
            {
                var i = 0;
                foreach (var line in lines.EnumerateArray()) ReadOrderLine(shape, line, $"receipt.orderLines[{i++}]");
            }
        }
        if (JsonShape.Has(element, "bottomLine", out var bottom)) ReadBottomLine(shape, bottom);
        return !shape.HasErrors || before;
    }

    private static void ReadOrderLine(JsonShape shape, JsonElement line, string p)
    {
        if (!shape.Object(line, p,
                ["name", "id", "totalAmount", "totalAmountExcludingTax", "totalTaxAmount", "taxPercentage", "taxRate", "unitInfo", "discount", "productUrl", "isReturn", "isShipping"],
                "name", "id", "totalAmount", "totalAmountExcludingTax", "totalTaxAmount")) return;
        if (JsonShape.Has(line, "name", out var n)) shape.String(n, $"{p}.name");
        if (JsonShape.Has(line, "id", out var id)) shape.String(id, $"{p}.id");
        foreach (var name in new[] { "totalAmount", "totalAmountExcludingTax", "totalTaxAmount" })
            if (JsonShape.Has(line, name, out var v)) shape.Integer(v, $"{p}.{name}");
        var hasPercentage = JsonShape.Has(line, "taxPercentage", out var tp);
        var hasRate = JsonShape.Has(line, "taxRate", out var tr);
        if (hasPercentage) shape.Integer(tp, $"{p}.taxPercentage", 0, 100);
        if (hasRate) shape.Integer(tr, $"{p}.taxRate", 0, 10000);
        if (!hasPercentage && !hasRate) shape.Fail($"{p}.taxRate", "Either taxRate or taxPercentage must be set.", "4140");
        if (JsonShape.Has(line, "discount", out var d)) shape.Integer(d, $"{p}.discount", 0);
        if (JsonShape.Has(line, "productUrl", out var u)) shape.String(u, $"{p}.productUrl");
        if (JsonShape.Has(line, "isReturn", out var ir)) shape.Boolean(ir, $"{p}.isReturn");
        if (JsonShape.Has(line, "isShipping", out var ish)) shape.Boolean(ish, $"{p}.isShipping");
        if (JsonShape.Has(line, "unitInfo", out var unit) && shape.Object(unit, $"{p}.unitInfo", ["unitPrice", "quantity", "quantityUnit"], "unitPrice", "quantity"))
        {
            if (JsonShape.Has(unit, "unitPrice", out var up)) shape.Integer(up, $"{p}.unitInfo.unitPrice", 0);
            if (JsonShape.Has(unit, "quantity", out var q)) shape.String(q, $"{p}.unitInfo.quantity", maxLength: 10, pattern: QuantityPattern());
            if (JsonShape.Has(unit, "quantityUnit", out var qu)) shape.String(qu, $"{p}.unitInfo.quantityUnit", oneOf: QuantityUnits);
        }
    }

    private static void ReadBottomLine(JsonShape shape, JsonElement bottom)
    {
        const string p = "receipt.bottomLine";
        if (!shape.Object(bottom, p,
                ["currency", "tipAmount", "giftCardAmount", "posId", "totalAmount", "totalTax", "totalDiscount", "shippingAmount", "shippingInfo", "paymentSources", "barcode", "receiptNumber", "terminalId"],
                "currency")) return;
        if (JsonShape.Has(bottom, "currency", out var c)) shape.String(c, $"{p}.currency", oneOf: Currencies);
        foreach (var name in new[] { "tipAmount", "giftCardAmount", "totalTax", "totalDiscount", "shippingAmount" })
            if (JsonShape.Has(bottom, name, out var v)) shape.Integer(v, $"{p}.{name}", 0);
        if (JsonShape.Has(bottom, "totalAmount", out var ta)) shape.Integer(ta, $"{p}.totalAmount");
        foreach (var name in new[] { "posId", "receiptNumber", "terminalId" })
            if (JsonShape.Has(bottom, name, out var v)) shape.String(v, $"{p}.{name}");
        if (JsonShape.Has(bottom, "paymentSources", out var ps) && shape.Object(ps, $"{p}.paymentSources", ["giftCard", "card", "voucher", "cash"]))
            foreach (var source in ps.EnumerateObject())
                if (source.Value.ValueKind != JsonValueKind.Null) shape.Integer(source.Value, $"{p}.paymentSources.{source.Name}");
        if (JsonShape.Has(bottom, "barcode", out var bc) && shape.Object(bc, $"{p}.barcode", ["format", "data"], "format", "data"))
        {
            if (JsonShape.Has(bc, "format", out var f)) shape.String(f, $"{p}.barcode.format", oneOf: ["EAN-13", "CODE 39", "CODE 128"]);
            if (JsonShape.Has(bc, "data", out var d)) shape.String(d, $"{p}.barcode.data");
        }
        if (JsonShape.Has(bottom, "shippingInfo", out var si) && shape.Object(si, $"{p}.shippingInfo", ["amount", "amountExcludingTax", "taxAmount", "taxPercentage"], "amount", "amountExcludingTax", "taxAmount", "taxPercentage"))
            foreach (var field in si.EnumerateObject())
                if (field.Value.ValueKind != JsonValueKind.Null) shape.Integer(field.Value, $"{p}.shippingInfo.{field.Name}", 0);
    }

    /// <summary>Metadata: at most 5 string pairs, keys ≤ 100, values ≤ 500 characters (4100-4130).</summary>
    private static Dictionary<string, string>? ReadMetadata(JsonShape shape, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            shape.Fail("metadata", "Must be an object of string values.");
            return null;
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in element.EnumerateObject())
        {
            if (pair.Value.ValueKind != JsonValueKind.String) shape.Fail($"metadata.{pair.Name}", "Must be a string.");
            else if (!result.TryAdd(pair.Name, pair.Value.GetString()!)) shape.Fail($"metadata.{pair.Name}", "Duplicate key.", "4110");
            else if (pair.Name.Length > 100) shape.Fail($"metadata.{pair.Name}", "Keys are at most 100 characters.", "4120");
            else if (pair.Value.GetString()!.Length > 500) shape.Fail($"metadata.{pair.Name}", "Values are at most 500 characters.", "4130");
        }
        if (result.Count > 5) shape.Fail("metadata", "At most 5 key-value pairs.", "4100");
        return result;
    }
}
