using System.Globalization;
using System.Text.Json;

namespace Vending.Core.Events;

/// <summary>
/// The wire form of a payment event: a CloudEvents 1.0 structured-mode JSON document (schema in
/// <c>docs/events.schema.json</c>). Both publishers send exactly these bytes, so a consumer written against the
/// local sink reads the topic unchanged.
/// </summary>
public static class PaymentEventMessage
{
    public const string ContentType = "application/json";
    public const string SpecVersion = "1.0";

    public static string Source(string machineId) => $"/vending/machines/{machineId}";

    /// <summary>UTF-8 JSON on one line (no indentation), so the local sink can write one event per line.</summary>
    public static byte[] ToJsonBytes(OutboxEvent outboxEvent)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteString("specversion", SpecVersion);
            json.WriteString("id", outboxEvent.EventId);
            json.WriteString("type", outboxEvent.Type);
            json.WriteString("source", Source(outboxEvent.MachineId));
            json.WriteString("time", FormatTime(outboxEvent.Time));
            json.WriteString("subject", outboxEvent.Reference);
            json.WriteString("datacontenttype", ContentType);
            json.WriteStartObject("data");
            json.WriteString("reference", outboxEvent.Reference);
            json.WriteString("machineId", outboxEvent.MachineId);
            json.WriteString("merchantId", outboxEvent.MerchantId);
            json.WriteString("state", outboxEvent.State);
            json.WriteString("currency", outboxEvent.Currency);
            json.WriteNumber("amount", outboxEvent.Amount);
            json.WriteNumber("authorizedAmount", outboxEvent.AuthorizedAmount);
            json.WriteNumber("capturedAmount", outboxEvent.CapturedAmount);
            json.WriteNumber("cancelledAmount", outboxEvent.CancelledAmount);
            json.WriteNumber("refundedAmount", outboxEvent.RefundedAmount);
            json.WriteNumber("sequence", outboxEvent.Sequence);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>RFC 3339 in UTC with a literal "Z", whatever offset the caller's value carried.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
