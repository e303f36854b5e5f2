using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Vending.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VendingFunctions.Tests.Contract;

/// <summary>One operation of the document: its method, path template (<c>/api/payments/{reference}</c>) and node.</summary>
public sealed record OpenApiOperation(string Method, string Path, JsonObject Node)
{
    public string Key => $"{Method} {Path}";
}

/// <summary>
/// <c>docs/openapi.yaml</c>, read as JSON, with what the contract tests need: its operations, a JSON pointer lookup,
/// and a check of one HTTP answer (status, content type, body) against the operation it belongs to. Response schemas
/// are validated with JsonSchema.Net (OpenAPI 3.1 schemas are JSON Schema 2020-12) after their local
/// <c>$ref</c>s are inlined, so a schema never depends on how a validator resolves references into a non-schema document.
/// </summary>
public sealed class OpenApiDocument
{
    private static readonly Lazy<OpenApiDocument> Repository = new(() => Load(Path.Combine(Azurite.RepositoryRoot(), "docs", "openapi.yaml")));
    private readonly Dictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private OpenApiDocument(JsonObject root)
    {
        Root = root;
        var paths = root["paths"]?.AsObject() ?? throw new InvalidOperationException("The document has no paths.");
        Operations = paths
            .SelectMany(path => path.Value!.AsObject()
                .Where(item => item.Key is "get" or "post" or "put" or "patch" or "delete")
                .Select(item => new OpenApiOperation(item.Key.ToUpperInvariant(), path.Key, item.Value!.AsObject())))
            .ToList();
    }

    /// <summary>The repository's document (read once per test run).</summary>
    public static OpenApiDocument Current => Repository.Value;

    public JsonObject Root { get; }

    public IReadOnlyList<OpenApiOperation> Operations { get; }

    public static OpenApiDocument Load(string path) => new(YamlToJson(File.ReadAllText(path)).AsObject());

    public static OpenApiDocument Parse(string yaml) => new(YamlToJson(yaml).AsObject());

    /// <summary>The node at a JSON pointer such as <c>/components/schemas/Sale</c>.</summary>
    public JsonNode? At(string pointer)
    {
        JsonNode? node = Root;
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var part = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            node = node switch
            {
                JsonObject obj => obj[part],
                JsonArray array when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < array.Count => array[index],
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>The operation a request went to: method and path (query ignored, segments unescaped) against the templates.</summary>
    public OpenApiOperation? Find(string method, string path)
    {
        var segments = Segments(path);
        return Operations
            .Where(o => o.Method.Equals(method, StringComparison.OrdinalIgnoreCase))
            .Select(o => (Operation: o, Template: Segments(o.Path)))
            .Where(t => t.Template.Length == segments.Length
                && t.Template.Zip(segments).All(p => p.First.StartsWith('{') ? p.Second.Length > 0 : p.First == p.Second))
            // A literal segment beats a parameter (/operator/sales/x vs /operator/sales/{reference}).
            .OrderByDescending(t => t.Template.Count(s => !s.StartsWith('{')))
            .Select(t => t.Operation)
            .FirstOrDefault();
    }

    /// <summary>What is wrong with an answer according to the document; empty when it conforms. With
    /// <paramref name="headers"/>, also the headers: every one the response documents as required must be there, each
    /// documented one that is there has its <c>const</c> value (if any), and every answer carries <c>Cache-Control: no-store</c> (the document's
    /// general rule).</summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? mediaType, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        var operation = Find(method, path);
        if (operation is null)
        {
            return [$"{method} {path}: no such operation in the document"];
        }

        var where = $"{operation.Key} answered {status}";
        var response = Resolve(operation.Node["responses"]?[status.ToString(CultureInfo.InvariantCulture)]) ?? Resolve(operation.Node["responses"]?["default"]);
        if (response is null)
        {
            return [$"{where}: the status is not documented for this operation"];
        }

        var problems = new List<string>();
        if (headers is not null)
        {
            if (!headers.TryGetValue("Cache-Control", out var cache) || !cache.Contains("no-store", StringComparison.Ordinal))
            {
                problems.Add($"{where}: no Cache-Control: no-store");
            }

            foreach (var (name, declared) in Resolve(response["headers"])?.AsObject() ?? [])
            {
                var header = Resolve(declared);
                var expected = header?["schema"]?["const"]?.GetValue<string>();
                if (!headers.TryGetValue(name, out var value))
                {
                    if (header?["required"]?.GetValue<bool>() == true)
                    {
                        problems.Add($"{where}: the required header {name} is missing");
                    }
                }
                else if (expected is not null && value != expected)
                {
                    problems.Add($"{where}: header {name} is '{value}', documented '{expected}'");
                }
            }
        }

        return [.. problems, .. CheckBody(operation, where, response, mediaType, body)];
    }

    private IReadOnlyList<string> CheckBody(OpenApiOperation operation, string where, JsonNode response, string? mediaType, string body)
    {
        var status = where[(where.LastIndexOf(' ') + 1)..];
        var content = Resolve(response["content"])?.AsObject();
        if (content is null || content.Count == 0)
        {
            return body.Length == 0 && mediaType is null ? [] : [$"{where}: documented without a body, but it has one ({mediaType})"];
        }

        if (mediaType is null || content[mediaType] is not JsonObject media)
        {
            return [$"{where}: content type {mediaType ?? "(none)"} is not one of {string.Join(", ", content.Select(c => c.Key))}"];
        }

        // A documented non-JSON body (the CSV export) has no schema to hold it to: its media type is the contract.
        if (!mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            return [];
        }

        JsonNode? instance;
        try
        {
            instance = JsonNode.Parse(body);
        }
        catch (JsonException exception)
        {
            return [$"{where}: the body is not JSON ({exception.Message})"];
        }

        var pointer = $"{operation.Key}|{status}|{mediaType}";
        JsonSchema schema;
        lock (_gate)
        {
            if (!_schemas.TryGetValue(pointer, out schema!))
            {
                schema = JsonSchema.FromText(Inline(media["schema"] ?? new JsonObject()).ToJsonString());
                _schemas[pointer] = schema;
            }
        }

        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        var errors = (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}"))
            .Distinct()
            .Take(8);
        return [$"{where}: the body does not match the schema: {string.Join("; ", errors)} (body: {Shorten(body)})"];
    }

    /// <summary>Follows a <c>$ref</c> to <c>#/components/...</c> (responses, parameters); other nodes as they are.</summary>
    public JsonNode? Resolve(JsonNode? node) =>
        node is JsonObject obj && obj["$ref"] is JsonValue reference && reference.GetValue<string>() is { } target && target.StartsWith("#/", StringComparison.Ordinal)
            ? Resolve(At(target[1..]))
            : node;

    /// <summary>A deep copy with every local <c>$ref</c> replaced by what it points at (the document has no cycles).</summary>
    public JsonNode Inline(JsonNode node, int depth = 0)
    {
        if (depth > 64)
        {
            throw new InvalidOperationException("The document's $refs nest too deep (a cycle?).");
        }

        switch (node)
        {
            case JsonObject obj when obj["$ref"] is JsonValue reference:
                var target = At(reference.GetValue<string>().TrimStart('#')) ?? throw new InvalidOperationException($"Dangling $ref {reference}.");
                return Inline(target, depth + 1);
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    copy[name] = value is null ? null : Inline(value, depth + 1);
                }

                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(item => item is null ? null : Inline(item, depth + 1)).ToArray());
            default:
                return node.DeepClone();
        }
    }

    private static string[] Segments(string path)
    {
        var query = path.IndexOf('?', StringComparison.Ordinal);
        var bare = query < 0 ? path : path[..query];
        return bare.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "...";

    /// <summary>YAML to JSON with YAML 1.2 core types: a plain scalar that reads as null, a boolean or a number becomes
    /// one; anything quoted stays a string.</summary>
    public static JsonNode YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode) ?? throw new InvalidOperationException("The YAML is empty.");
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw new InvalidOperationException($"Unsupported YAML node {node.NodeType}."),
    };

    private static JsonNode? Plain(string text)
    {
        if (text is "" or "~" or "null")
        {
            return null;
        }

        if (text is "true" or "false")
        {
            return JsonValue.Create(text == "true");
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && char.IsAsciiDigit(text[^1]))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(text);
    }
}
