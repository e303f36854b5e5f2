using System.Text.Json;
using System.Text.RegularExpressions;

namespace VippsSimulator.Http;

/// <summary>
/// Collects schema errors while walking a request body, the way the OpenAPI spec would reject it: unknown fields,
/// missing required ones, wrong JSON types, enum, pattern and range violations. Each error names its JSON path.
/// </summary>
public sealed class JsonShape
{
    private readonly List<(ExtraDetail Detail, string? Code)> _errors = new();

    public bool HasErrors => _errors.Count > 0;

    public void Fail(string path, string reason, string? code = null) => _errors.Add((new ExtraDetail(path, reason), code));

    public VippsError ToError() =>
        VippsError.Validation(_errors.Select(e => e.Detail).ToList(), _errors.Select(e => e.Code).FirstOrDefault(c => c is not null));

    /// <summary>Checks that <paramref name="element"/> is an object with only known properties and all required ones present.</summary>
    public bool Object(JsonElement element, string path, string[] allowed, params string[] required)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Fail(path, "Must be a JSON object.");
            return false;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!seen.Add(property.Name)) Fail(Join(path, property.Name), "Duplicate property.");
            if (!allowed.Contains(property.Name, StringComparer.Ordinal)) Fail(Join(path, property.Name), "Unknown property.");
        }
        foreach (var name in required)
        {
            if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
                Fail(Join(path, name), "The field is required.", "4140");
        }
        return true;
    }

    /// <summary>The property if present and not null.</summary>
    public static bool Has(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public string? String(JsonElement element, string path, int? minLength = null, int? maxLength = null, Regex? pattern = null, string[]? oneOf = null, string? code = null)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            Fail(path, "Must be a string.", code);
            return null;
        }
        var text = element.GetString()!;
        if (minLength is { } min && text.Length < min) Fail(path, $"Must be at least {min} characters.", code);
        else if (maxLength is { } max && text.Length > max) Fail(path, $"Must be at most {max} characters.", code);
        else if (pattern is not null && !pattern.IsMatch(text)) Fail(path, $"Must match {pattern}.", code);
        else if (oneOf is not null && !oneOf.Contains(text, StringComparer.Ordinal)) Fail(path, $"Must be one of {string.Join(", ", oneOf)}.", code);
        else return text;
        return null;
    }

    /// <summary>An integer (no fraction, no exponent tricks) within the bounds; <paramref name="code"/> marks a violation.</summary>
    public long? Integer(JsonElement element, string path, long? minimum = null, long? maximum = null, string? code = null)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var value))
        {
            Fail(path, "Must be an integer.", code);
            return null;
        }
        if (minimum is { } min && value < min) Fail(path, $"Must be at least {min}.", code);
        else if (maximum is { } max && value > max) Fail(path, $"Must be at most {max}.", code);
        else return value;
        return null;
    }

    public bool? Boolean(JsonElement element, string path)
    {
        if (element.ValueKind is JsonValueKind.True or JsonValueKind.False) return element.GetBoolean();
        Fail(path, "Must be true or false.");
        return null;
    }

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
