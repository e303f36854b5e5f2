using System.Globalization;
using System.Text.Json;

namespace FunctionsHost.Configuration;

/// <summary>The queue settings of host.json (<c>extensions.queues</c>), with the Functions host's defaults.</summary>
internal sealed record QueueHostSettings(int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, int BatchSize, bool Base64)
{
    public static QueueHostSettings Defaults { get; } = new(5, TimeSpan.Zero, TimeSpan.FromMinutes(1), 16, Base64: true);

    /// <summary>Reads <paramref name="path"/>; a missing file means the defaults. Names are case-insensitive, as in Functions.</summary>
    public static QueueHostSettings Load(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return Defaults;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (Property(document.RootElement, "extensions") is not { } extensions || Property(extensions, "queues") is not { } queues)
        {
            return Defaults;
        }

        return new QueueHostSettings(
            Property(queues, "maxDequeueCount")?.GetInt32() ?? Defaults.MaxDequeueCount,
            Duration(Property(queues, "visibilityTimeout")) ?? Defaults.VisibilityTimeout,
            Duration(Property(queues, "maxPollingInterval")) ?? Defaults.MaxPollingInterval,
            Property(queues, "batchSize")?.GetInt32() ?? Defaults.BatchSize,
            !string.Equals(Property(queues, "messageEncoding")?.GetString(), "none", StringComparison.OrdinalIgnoreCase));
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(name) || string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return property.Value;
                }
            }
        }

        return null;
    }

    private static TimeSpan? Duration(JsonElement? value) =>
        value?.GetString() is { } text ? TimeSpan.Parse(text, CultureInfo.InvariantCulture) : null;
}
