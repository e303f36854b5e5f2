using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vending.Core.Http;

/// <summary>
/// The JSON of our public API: camelCase names, enums by name (e.g. <c>"Authorized"</c>, as SaleState documents),
/// nulls omitted. Request bodies are not deserialized with these options but read field by field
/// (<see cref="JsonFields"/>), so every error can name its field.
/// </summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
