using System.Text.Json;

namespace FunctionsHost.Configuration;

/// <summary>
/// Reads the <c>Values</c> (and <c>ConnectionStrings</c>) of a Functions <c>local.settings.json</c> as configuration.
/// Core Tools hands the values to the worker as environment variables, where <c>__</c> means <c>:</c>; so here.
/// </summary>
internal static class LocalSettings
{
    public static Dictionary<string, string?> Load(string path)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (document.RootElement.TryGetProperty("Values", out var values) && values.ValueKind == JsonValueKind.Object)
        {
            foreach (var value in values.EnumerateObject())
            {
                settings[value.Name.Replace("__", ":", StringComparison.Ordinal)] = Text(value.Value);
            }
        }

        if (document.RootElement.TryGetProperty("ConnectionStrings", out var connections) && connections.ValueKind == JsonValueKind.Object)
        {
            foreach (var connection in connections.EnumerateObject())
            {
                settings["ConnectionStrings:" + connection.Name] = Text(connection.Value);
            }
        }

        return settings;
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => value.GetRawText(),
    };
}
