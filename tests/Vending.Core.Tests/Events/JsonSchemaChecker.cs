using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vending.Core.Tests.Events;

/// <summary>
/// The subset of JSON Schema 2020-12 that <c>docs/events.schema.json</c> uses (type, required, properties,
/// additionalProperties, const, enum, pattern, minLength, minimum, format date-time). A keyword outside that subset
/// throws, so the schema cannot grow a rule these tests would silently ignore.
/// </summary>
internal static class JsonSchemaChecker
{
    private static readonly HashSet<string> Annotations = ["$schema", "$id", "title", "description"];

    public static JsonElement LoadEventSchema()
    {
        var path = Path.Combine(Vending.Testing.Azurite.RepositoryRoot(), "docs", "events.schema.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    public static IReadOnlyList<string> Validate(JsonElement schema, JsonElement instance)
    {
        var errors = new List<string>();
        Check(schema, instance, "$", errors);
        return errors;
    }

    private static void Check(JsonElement schema, JsonElement value, string at, List<string> errors)
    {
        foreach (var keyword in schema.EnumerateObject())
        {
            switch (keyword.Name)
            {
                case "type":
                    if (!HasType(value, keyword.Value.GetString()!))
                    {
                        errors.Add($"{at}: expected {keyword.Value.GetString()}, found {value.ValueKind}");
                        return;
                    }

                    break;
                case "required":
                    foreach (var name in keyword.Value.EnumerateArray().Select(n => n.GetString()!))
                    {
                        if (value.ValueKind == JsonValueKind.Object && !value.TryGetProperty(name, out _))
                        {
                            errors.Add($"{at}: missing required '{name}'");
                        }
                    }

                    break;
                case "properties":
                    if (value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var property in keyword.Value.EnumerateObject())
                        {
                            if (value.TryGetProperty(property.Name, out var child))
                            {
                                Check(property.Value, child, $"{at}.{property.Name}", errors);
                            }
                        }
                    }

                    break;
                case "additionalProperties":
                    if (keyword.Value.ValueKind != JsonValueKind.False)
                    {
                        throw new NotSupportedException($"{at}: only additionalProperties false is supported");
                    }

                    if (value.ValueKind == JsonValueKind.Object)
                    {
                        var known = schema.TryGetProperty("properties", out var props)
                            ? props.EnumerateObject().Select(p => p.Name).ToHashSet()
                            : [];
                        errors.AddRange(value.EnumerateObject().Where(p => !known.Contains(p.Name)).Select(p => $"{at}: unexpected '{p.Name}'"));
                    }

                    break;
                case "const":
                    if (!JsonElement.DeepEquals(keyword.Value, value))
                    {
                        errors.Add($"{at}: expected {keyword.Value.GetRawText()}, found {value.GetRawText()}");
                    }

                    break;
                case "enum":
                    if (!keyword.Value.EnumerateArray().Any(option => JsonElement.DeepEquals(option, value)))
                    {
                        errors.Add($"{at}: {value.GetRawText()} is not one of {keyword.Value.GetRawText()}");
                    }

                    break;
                case "pattern":
                    if (value.ValueKind == JsonValueKind.String && !Regex.IsMatch(value.GetString()!, keyword.Value.GetString()!))
                    {
                        errors.Add($"{at}: '{value.GetString()}' does not match {keyword.Value.GetString()}");
                    }

                    break;
                case "minLength":
                    if (value.ValueKind == JsonValueKind.String && value.GetString()!.Length < keyword.Value.GetInt32())
                    {
                        errors.Add($"{at}: shorter than {keyword.Value.GetInt32()}");
                    }

                    break;
                case "minimum":
                    if (value.ValueKind == JsonValueKind.Number && value.GetDecimal() < keyword.Value.GetDecimal())
                    {
                        errors.Add($"{at}: below {keyword.Value.GetDecimal()}");
                    }

                    break;
                case "format":
                    if (keyword.Value.GetString() != "date-time")
                    {
                        throw new NotSupportedException($"{at}: format {keyword.Value.GetString()}");
                    }

                    if (value.ValueKind == JsonValueKind.String && !DateTimeOffset.TryParse(
                            value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
                    {
                        errors.Add($"{at}: '{value.GetString()}' is not a date-time");
                    }

                    break;
                default:
                    if (!Annotations.Contains(keyword.Name))
                    {
                        throw new NotSupportedException($"{at}: schema keyword '{keyword.Name}' is not checked by {nameof(JsonSchemaChecker)}");
                    }

                    break;
            }
        }
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        _ => throw new NotSupportedException($"type {type}"),
    };
}
