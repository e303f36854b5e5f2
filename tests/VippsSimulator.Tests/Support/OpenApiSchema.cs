using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace VippsSimulator.Tests.Support;

/// <summary>
/// A small OpenAPI 3.0 schema checker over the official YAML specs: $ref, type, nullable, required, properties,
/// additionalProperties, enum, pattern, string lengths, numeric bounds, items, minItems, maxProperties, oneOf, and the
/// formats uuid, date-time and uri. Written here, independent of the simulator, so the simulator cannot grade itself.
/// </summary>
public sealed class OpenApiSchema
{
    private readonly Dictionary<object, object> _root;

    private OpenApiSchema(Dictionary<object, object> root) => _root = root;

    public static OpenApiSchema Load(string fileName)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Specs", fileName));
        return new OpenApiSchema((Dictionary<object, object>)new DeserializerBuilder().Build().Deserialize<object>(text)!);
    }

    public static readonly Lazy<OpenApiSchema> EPayment = new(() => Load("epayment-openapi.yaml"));
    public static readonly Lazy<OpenApiSchema> Webhooks = new(() => Load("webhooks-openapi.yaml"));
    public static readonly Lazy<OpenApiSchema> AccessToken = new(() => Load("access-token-openapi.yaml"));

    /// <summary>The schema the spec declares for a response (following #/components/responses refs).</summary>
    public Dictionary<object, object> ResponseSchema(string path, string method, int status)
    {
        var operation = Map(Map(Map(_root["paths"])[path])[method]);
        var response = Map(Map(operation["responses"])[status.ToString(CultureInfo.InvariantCulture)]);
        if (response.TryGetValue("$ref", out var r)) response = Resolve((string)r);
        var content = Map(response["content"]);
        return Map(Map(content.Values.First())["schema"]);
    }

    public Dictionary<object, object> Component(string name) => Resolve($"#/components/schemas/{name}");

    /// <summary>Errors (empty when valid) of <paramref name="json"/> against the spec's response schema.</summary>
    public List<string> CheckResponse(string path, string method, int status, string json) =>
        Check(ResponseSchema(path, method, status), json);

    public List<string> Check(Dictionary<object, object> schema, string json)
    {
        var errors = new List<string>();
        using var document = JsonDocument.Parse(json);
        Validate(schema, document.RootElement, "$", errors);
        return errors;
    }

    private void Validate(Dictionary<object, object> schema, JsonElement value, string at, List<string> errors)
    {
        if (schema.TryGetValue("$ref", out var reference))
        {
            Validate(Resolve((string)reference), value, at, errors);
            return;
        }
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!Flag(schema, "nullable")) errors.Add($"{at}: null but not nullable");
            return;
        }
        if (schema.TryGetValue("oneOf", out var oneOf))
        {
            var matches = List(oneOf).Count(s => { var e = new List<string>(); Validate(Map(s), value, at, e); return e.Count == 0; });
            if (matches != 1) errors.Add($"{at}: matches {matches} of the oneOf schemas, must match exactly one");
        }
        var type = schema.TryGetValue("type", out var t) ? (string)t : null;
        switch (type)
        {
            case "object":
                if (value.ValueKind != JsonValueKind.Object) { errors.Add($"{at}: expected object, got {value.ValueKind}"); return; }
                ValidateObject(schema, value, at, errors);
                break;
            case "array":
                if (value.ValueKind != JsonValueKind.Array) { errors.Add($"{at}: expected array, got {value.ValueKind}"); return; }
                if (schema.TryGetValue("minItems", out var minItems) && value.GetArrayLength() < Int(minItems)) errors.Add($"{at}: fewer than {minItems} items");
                var i = 0;
                foreach (var item in value.EnumerateArray()) Validate(Map(schema["items"]), item, $"{at}[{i++}]", errors);
                break;
            case "string":
                if (value.ValueKind != JsonValueKind.String) { errors.Add($"{at}: expected string, got {value.ValueKind}"); return; }
                ValidateString(schema, value.GetString()!, at, errors);
                break;
            case "integer":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n)) { errors.Add($"{at}: expected integer, got {value}"); return; }
                if (schema.TryGetValue("minimum", out var min) && n < Int(min)) errors.Add($"{at}: {n} below minimum {min}");
                if (schema.TryGetValue("maximum", out var max) && n > Int(max)) errors.Add($"{at}: {n} above maximum {max}");
                break;
            case "number":
                if (value.ValueKind != JsonValueKind.Number) errors.Add($"{at}: expected number");
                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) errors.Add($"{at}: expected boolean, got {value.ValueKind}");
                break;
        }
        if (schema.TryGetValue("enum", out var values) && value.ValueKind == JsonValueKind.String && !List(values).Cast<string>().Contains(value.GetString()))
            errors.Add($"{at}: '{value.GetString()}' is not in the enum");
    }

    private void ValidateObject(Dictionary<object, object> schema, JsonElement value, string at, List<string> errors)
    {
        var properties = schema.TryGetValue("properties", out var p) ? Map(p) : new Dictionary<object, object>();
        if (schema.TryGetValue("required", out var required))
            foreach (var name in List(required).Cast<string>())
                if (!value.TryGetProperty(name, out _)) errors.Add($"{at}: required property '{name}' missing");
        if (schema.TryGetValue("maxProperties", out var maxProperties) && value.EnumerateObject().Count() > Int(maxProperties))
            errors.Add($"{at}: more than {maxProperties} properties");
        foreach (var property in value.EnumerateObject())
        {
            if (properties.TryGetValue(property.Name, out var propertySchema)) Validate(Map(propertySchema), property.Value, $"{at}.{property.Name}", errors);
            else if (schema.TryGetValue("additionalProperties", out var additional))
            {
                if (additional is Dictionary<object, object> additionalSchema) Validate(additionalSchema, property.Value, $"{at}.{property.Name}", errors);
                else if (additional is string s && s == "false") errors.Add($"{at}: property '{property.Name}' not allowed");
            }
        }
    }

    private static void ValidateString(Dictionary<object, object> schema, string text, string at, List<string> errors)
    {
        if (schema.TryGetValue("minLength", out var min) && text.Length < Int(min)) errors.Add($"{at}: shorter than {min}");
        if (schema.TryGetValue("maxLength", out var max) && text.Length > Int(max)) errors.Add($"{at}: longer than {max}");
        if (schema.TryGetValue("pattern", out var pattern) && !Regex.IsMatch(text, (string)pattern)) errors.Add($"{at}: '{text}' does not match {pattern}");
        switch (schema.TryGetValue("format", out var f) ? (string)f : null)
        {
            case "uuid" when !Guid.TryParse(text, out _): errors.Add($"{at}: '{text}' is not a uuid"); break;
            case "date-time" when !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _) || !text.Contains('T'):
                errors.Add($"{at}: '{text}' is not a date-time"); break;
            case "uri" when !Uri.TryCreate(text, UriKind.Absolute, out _): errors.Add($"{at}: '{text}' is not an absolute uri"); break;
        }
    }

    private Dictionary<object, object> Resolve(string reference)
    {
        object node = _root;
        foreach (var part in reference.TrimStart('#', '/').Split('/')) node = Map(node)[part];
        return Map(node);
    }

    private static bool Flag(Dictionary<object, object> schema, string name) => schema.TryGetValue(name, out var v) && v is string s && s == "true";
    private static long Int(object value) => long.Parse((string)value, CultureInfo.InvariantCulture);
    private static Dictionary<object, object> Map(object node) => (Dictionary<object, object>)node;
    private static List<object> List(object node) => (List<object>)node;
}
