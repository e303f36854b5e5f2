using System.Text.Json;
using System.Text.Json.Serialization;

namespace VippsSimulator.Http;

public static class SimulatorJson
{
    /// <summary>camelCase like Vipps, enums as their names, nulls left out.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };
}
