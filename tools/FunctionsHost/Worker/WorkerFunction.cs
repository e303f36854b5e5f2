using System.Text.Json;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Worker;

/// <summary>What the host runs a function by, read from the trigger binding the worker indexed (its raw JSON).</summary>
public sealed record WorkerFunction(
    string Name,
    string TriggerType,
    string TriggerBindingName,
    string? Route,
    IReadOnlyList<string> Methods,
    string AuthLevel,
    string? QueueName,
    string? Connection,
    string? Schedule,
    bool RunOnStartup)
{
    public bool IsHttp => TriggerType.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase);

    public bool IsQueue => TriggerType.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase);

    public bool IsTimer => TriggerType.Equals("timerTrigger", StringComparison.OrdinalIgnoreCase);

    internal static WorkerFunction FromMetadata(RpcFunctionMetadata metadata)
    {
        foreach (var raw in metadata.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw);
            var root = binding.RootElement;
            var type = Text(root, "type") ?? "";
            if (!type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var methods = root.TryGetProperty("methods", out var m) && m.ValueKind == JsonValueKind.Array
                ? m.EnumerateArray().Select(x => x.GetString()!.ToUpperInvariant()).ToList()
                : [];
            return new WorkerFunction(
                metadata.Name,
                type,
                Text(root, "name") ?? "",
                Text(root, "route") ?? (type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase) ? metadata.Name : null),
                methods,
                Text(root, "authLevel") ?? "Function",
                Text(root, "queueName"),
                Text(root, "connection") ?? "AzureWebJobsStorage",
                Text(root, "schedule"),
                root.TryGetProperty("runOnStartup", out var r) && r.ValueKind == JsonValueKind.True);
        }

        throw new WorkerStartupException($"Function {metadata.Name} has no trigger binding in the worker's metadata.");
    }

    private static string? Text(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
            {
                return property.Value.GetString();
            }
        }

        return null;
    }
}
