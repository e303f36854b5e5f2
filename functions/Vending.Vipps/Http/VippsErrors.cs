using System.Globalization;
using System.Text.Json;

namespace Vending.Vipps.Http;

/// <summary>
/// Turns a non-success answer into a <see cref="VippsApiException"/>. ePayment errors are problem+json with the
/// numeric code in <c>extraDetails[{name:"ErrorCode",reason:"6090"}]</c>; the API gateway (401, 403, 429) and older
/// APIs answer in other shapes or with no body at all, so every field is optional here.
/// </summary>
internal static class VippsErrors
{
    private const int MaxBodyCharsRead = 16 * 1024;

    public static async Task<VippsApiException> FromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            body = "";
        }

        var (errorCode, title, traceId) = Parse(body.Length > MaxBodyCharsRead ? "" : body);
        title ??= string.IsNullOrWhiteSpace(response.ReasonPhrase) ? $"HTTP {(int)response.StatusCode}" : response.ReasonPhrase;
        return new VippsApiException(response.StatusCode, errorCode, title, traceId: traceId);
    }

    /// <summary>Longest trace id kept: Vipps' are W3C trace contexts (55 characters); anything longer is not one.</summary>
    private const int MaxTraceIdLength = 128;

    public static (int? ErrorCode, string? Title, string? TraceId) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Object => (FindErrorCode(root), FirstString(root, "title", "message", "detail", "errorMessage"), TraceIdOf(root)),
                // Legacy Vipps APIs answer [{ "errorGroup", "errorCode", "errorMessage" }].
                JsonValueKind.Array when root.GetArrayLength() > 0 && root[0].ValueKind == JsonValueKind.Object =>
                    (AsInt(Property(root[0], "errorCode")), FirstString(root[0], "errorMessage"), null),
                _ => (null, null, null),
            };
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    // The trace id ends up in logs and sale history: keep it only when it is a short, printable token.
    private static string? TraceIdOf(JsonElement problem) =>
        FirstString(problem, "traceId") is { Length: <= MaxTraceIdLength } traceId && traceId.All(c => c is > ' ' and < (char)127) ? traceId : null;

    private static int? FindErrorCode(JsonElement problem)
    {
        if (Property(problem, "extraDetails") is { ValueKind: JsonValueKind.Array } details)
        {
            foreach (var detail in details.EnumerateArray())
            {
                if (detail.ValueKind == JsonValueKind.Object
                    && Property(detail, "name") is { ValueKind: JsonValueKind.String } name
                    && string.Equals(name.GetString(), "ErrorCode", StringComparison.OrdinalIgnoreCase))
                {
                    return AsInt(Property(detail, "reason"));
                }
            }
        }

        return AsInt(Property(problem, "errorCode"));
    }

    private static int? AsInt(JsonElement? element) => element switch
    {
        { ValueKind: JsonValueKind.Number } number when number.TryGetInt32(out var value) => value,
        { ValueKind: JsonValueKind.String } text when int.TryParse(text.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
        _ => null,
    };

    private static string? FirstString(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            if (Property(element, name) is { ValueKind: JsonValueKind.String } value && !string.IsNullOrWhiteSpace(value.GetString()))
            {
                return value.GetString();
            }
        }

        return null;
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }
}
