using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vending.Vipps;

/// <summary>
/// The JSON settings of the Vipps wire format: camelCase names, nulls omitted (the specs treat an absent
/// optional field and an explicit null differently, and strict validators reject the latter), case-insensitive
/// reading. Use these to read webhook bodies too, so they parse exactly as the API responses do.
/// </summary>
public static class VippsJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
