using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vending.Core.Sales;

/// <summary>
/// One message of the <c>sale-commands</c> queue (JSON, base64 on the wire). It names the sale and the operation;
/// the operation's amount and idempotency key are read from the sale itself when it runs, so a stale or repeated
/// message can never do more than the sale says. <see cref="Attempt"/> counts transient failures (the backoff).
/// <see cref="TraceParent"/> is the W3C trace context of the span that enqueued it (absent in older messages), so the
/// trace of a sale goes on across the queue (docs/operations.md).
/// </summary>
public sealed record SaleCommand(string Reference, string OperationId, string Kind, long Amount, int Attempt = 0, string? TraceParent = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Kinds on the wire: capture, release (cancel after authorization), cancel (cancelTransactionOnly), refund.</summary>
    public static string KindName(OperationKind kind) => kind switch
    {
        OperationKind.Capture => "capture",
        OperationKind.Release => "release",
        OperationKind.Terminate => "cancel",
        OperationKind.Refund => "refund",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static SaleCommand For(string reference, SaleOperation operation) =>
        new(reference, operation.Id, KindName(operation.Kind), operation.Amount, operation.Attempt);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SaleCommand? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            var command = JsonSerializer.Deserialize<SaleCommand>(text, Json);
            return command is { Reference.Length: > 0, OperationId.Length: > 0 } ? command : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
