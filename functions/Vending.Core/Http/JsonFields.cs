using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vending.Core.Http;

/// <summary>
/// A strict reader of one JSON object of a request body. Every refusal names the field at fault in the form clients
/// see it (<c>lines[0].quantity</c>): unknown or repeated properties are refused when the object is opened, wrong
/// types and values when a field is read. Property names are matched exactly (camelCase).
/// </summary>
public sealed class JsonFields
{
    private readonly JsonElement _element;
    private readonly string _path;

    private JsonFields(JsonElement element, string path)
    {
        _element = element;
        _path = path;
    }

    /// <summary>Parses <paramref name="body"/> (an empty body reads as <c>{}</c>) and opens its root object.</summary>
    public static T Parse<T>(ReadOnlyMemory<byte> body, Func<JsonElement, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (body.IsEmpty)
        {
            body = "{}"u8.ToArray();
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            throw new ApiProblemException(400, ApiErrors.InvalidJson, "The request body is not valid JSON.");
        }

        using (document)
        {
            // JsonDocument checks structure only; a string's bytes are decoded when it is read. Decode every string and
            // name now, so invalid UTF-8 or an unpaired surrogate escape ("\ud800") is the client's malformed JSON
            // rather than an exception in the middle of a reader.
            if (!HasOnlyValidText(document.RootElement))
            {
                throw new ApiProblemException(400, ApiErrors.InvalidJson, "The request body holds text that is not valid UTF-8 or Unicode.");
            }

            return read(document.RootElement);
        }
    }

    private static bool HasOnlyValidText(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return IsWellFormed(element.GetString()!);
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (!IsWellFormed(property.Name) || !HasOnlyValidText(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!HasOnlyValidText(item))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false; // invalid UTF-8 bytes, or an escape that does not decode
        }
    }

    // Escapes can spell what raw UTF-8 cannot: a lone or swapped surrogate pair decodes without complaint.
    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Opens an object, refusing any property not in <paramref name="allowed"/> and any property given twice.</summary>
    public static JsonFields Open(JsonElement element, string path, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw path.Length == 0
                ? new ApiProblemException(400, ApiErrors.ValidationFailed, "The request body must be a JSON object.")
                : ApiErrors.Validation(path, $"{path} must be an object.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var field = Join(path, property.Name);
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw new ApiProblemException(400, ApiErrors.UnknownField, $"Unknown field {Truncate(field)}.", Truncate(field));
            }

            if (!seen.Add(property.Name))
            {
                throw ApiErrors.Validation(field, $"{field} is given more than once.");
            }
        }

        return new JsonFields(element, path);
    }

    public string RequiredString(string name, int maxLength, Regex? pattern = null) =>
        OptionalString(name, maxLength, pattern) ?? throw Missing(name);

    public string? OptionalString(string name, int maxLength, Regex? pattern = null)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must be a string.");
        }

        var text = value.GetString()!;
        if (text.Length == 0 || text.Length > maxLength || text.Trim().Length != text.Length)
        {
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must be 1 to {maxLength} characters without leading or trailing spaces.");
        }

        if (pattern is not null && !pattern.IsMatch(text))
        {
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} has an invalid format.");
        }

        return text;
    }

    /// <summary>A text a person will read (on the Vipps receipt, in the payment description, in an operator list):
    /// control and format characters are refused (<see cref="InputLimits.IsDisplayText"/>).</summary>
    public string RequiredDisplayText(string name, int maxLength)
    {
        var text = RequiredString(name, maxLength);
        return InputLimits.IsDisplayText(text)
            ? text
            : throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must not hold control or format characters (such as NUL or U+202E).");
    }

    public int RequiredInt(string name, int min, int max) => OptionalInt(name, min, max) ?? throw Missing(name);

    public int? OptionalInt(string name, int min, int max)
    {
        var value = OptionalLong(name, min, max);
        return value is null ? null : (int)value.Value;
    }

    public long RequiredLong(string name, long min, long max) => OptionalLong(name, min, max) ?? throw Missing(name);

    public long? OptionalLong(string name, long min, long max)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must be an integer.");
        }

        if (number < min || number > max)
        {
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must be between {min} and {max}.");
        }

        return number;
    }

    /// <summary>An enum given by its name, case-insensitively; numbers are refused (they would silently map).</summary>
    public TEnum? OptionalEnum<TEnum>(string name) where TEnum : struct, Enum
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String
            || !Enum.TryParse<TEnum>(value.GetString(), ignoreCase: true, out var parsed)
            || !Enum.IsDefined(parsed)
            || value.GetString()!.Any(c => !char.IsLetter(c)))
        {
            var names = string.Join(", ", Enum.GetNames<TEnum>().Select(JsonNamingPolicy.CamelCase.ConvertName));
            throw ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} must be one of: {names}.");
        }

        return parsed;
    }

    public TEnum RequiredEnum<TEnum>(string name) where TEnum : struct, Enum => OptionalEnum<TEnum>(name) ?? throw Missing(name);

    public JsonFields? OptionalObject(string name, params string[] allowed) =>
        TryGet(name, out var value) ? Open(value, Join(_path, name), allowed) : null;

    public IReadOnlyList<T>? OptionalArray<T>(string name, int minItems, int maxItems, Func<JsonElement, string, T> readItem)
    {
        ArgumentNullException.ThrowIfNull(readItem);
        if (!TryGet(name, out var value))
        {
            return null;
        }

        var field = Join(_path, name);
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw ApiErrors.Validation(field, $"{field} must be an array.");
        }

        var count = value.GetArrayLength();
        if (count < minItems || count > maxItems)
        {
            throw ApiErrors.Validation(field, $"{field} must have {minItems} to {maxItems} items.");
        }

        var items = new List<T>(count);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            items.Add(readItem(item, $"{field}[{index++}]"));
        }

        return items;
    }

    public IReadOnlyList<T> RequiredArray<T>(string name, int minItems, int maxItems, Func<JsonElement, string, T> readItem) =>
        OptionalArray(name, minItems, maxItems, readItem) ?? throw Missing(name);

    public bool Has(string name) => TryGet(name, out _);

    /// <summary>An explicit <c>null</c> counts as absent.</summary>
    private bool TryGet(string name, out JsonElement value) =>
        _element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private ApiProblemException Missing(string name) => ApiErrors.Validation(Join(_path, name), $"{Join(_path, name)} is required.");

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    // An unknown name is the client's text: keep what we echo short.
    private static string Truncate(string text) => text.Length <= 100 ? text : text[..100];
}
