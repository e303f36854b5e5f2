using System.Text.Json;
using System.Text.Json.Nodes;

namespace VippsSimulator.Http;

/// <summary>A request body read once: the parsed element for validation and a node for idempotency comparison.</summary>
public sealed record RequestBody(JsonElement? Element, JsonNode? Node)
{
    public static readonly RequestBody Empty = new(null, null);

    /// <summary>Null body when empty; an error when the bytes are not one JSON value.</summary>
    public static async Task<(RequestBody? Body, VippsError? Error)> Read(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        if (buffer.Length == 0) return (Empty, null);
        try
        {
            var element = JsonDocument.Parse(buffer.ToArray()).RootElement;
            return (new RequestBody(element, JsonNode.Parse(element.GetRawText())), null);
        }
        catch (JsonException e)
        {
            return (null, VippsError.Validation([new ExtraDetail("body", $"Not valid JSON: {e.Message}")]));
        }
    }

    public static VippsError? IdempotencyKeyProblem(HttpRequest request, bool required, out string? key)
    {
        key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length == 0)
        {
            key = null;
            return required ? VippsError.Validation([new ExtraDetail("Idempotency-Key", "The header is required.")], "4140") : null;
        }
        return key.Length > 50 ? VippsError.Validation([new ExtraDetail("Idempotency-Key", "At most 50 characters.")], "4020") : null;
    }
}
