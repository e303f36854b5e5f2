using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Vending.Core.Events;
using Vending.Core.Sales;

namespace Vending.Core.Tests.Events;

public class PaymentEventMessageTests
{
    private static readonly JsonElement Schema = JsonSchemaChecker.LoadEventSchema();

    [Theory]
    [InlineData("created", "Created", 1)]
    [InlineData("authorized", "Authorized", 2)]
    [InlineData("captured", "Captured", 4)]
    [InlineData("refunded", "Refunded", 1234567)]
    public void Service_bus_message_bodies_validate_against_the_published_schema(string transition, string state, long sequence)
    {
        var message = ServiceBusPaymentEventPublisher.ToMessage(OutboxTestData.Event("sale-1", sequence, transition, state));

        using var body = JsonDocument.Parse(message.Body.ToString());

        Assert.Empty(JsonSchemaChecker.Validate(Schema, body.RootElement));
    }

    [Fact]
    public async Task Local_sink_lines_validate_against_the_published_schema()
    {
        var path = Path.Combine(Path.GetTempPath(), "vending-events-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            using (var sink = new LocalFilePaymentEventPublisher(path, NullLogger<LocalFilePaymentEventPublisher>.Instance))
            {
                await sink.PublishAsync(OutboxTestData.Event("sale-1", 1, "created", "Created"), CancellationToken.None);
            }

            using var line = JsonDocument.Parse(Assert.Single(await File.ReadAllLinesAsync(path)));
            Assert.Empty(JsonSchemaChecker.Validate(Schema, line.RootElement));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("$.id", null)]
    [InlineData("$.data.amount", "\"2500\"")]
    [InlineData("$.data.state", "\"Paid\"")]
    [InlineData("$.time", "\"2026-11-27T11:15:30+01:00\"")]
    [InlineData("$.data.secret", "\"x\"")]
    [InlineData("$.source", "\"machine-7\"")]
    public void The_checker_rejects_a_body_that_breaks_the_schema(string path, string? replacement)
    {
        var body = JsonNode.Parse(PaymentEventMessage.ToJsonBytes(OutboxTestData.Event("sale-1", 1)))!.AsObject();
        var segments = path.Split('.')[1..];
        var parent = segments[..^1].Aggregate(body, (node, name) => node[name]!.AsObject());
        if (replacement is null)
        {
            parent.Remove(segments[^1]);
        }
        else
        {
            parent[segments[^1]] = JsonNode.Parse(replacement);
        }

        using var document = JsonDocument.Parse(body.ToJsonString());

        Assert.NotEmpty(JsonSchemaChecker.Validate(Schema, document.RootElement));
    }

    [Fact]
    public void The_schema_lists_exactly_the_sale_states()
    {
        var states = Schema.GetProperty("properties").GetProperty("data").GetProperty("properties")
            .GetProperty("state").GetProperty("enum").EnumerateArray().Select(s => s.GetString());

        Assert.Equal(Enum.GetNames<SaleState>(), states);
    }

    [Fact]
    public void Time_is_written_in_utc_whatever_offset_the_event_carried()
    {
        var outboxEvent = OutboxTestData.Event("sale-1", 1) with { Time = new DateTimeOffset(2026, 11, 27, 11, 15, 30, TimeSpan.FromHours(1)) };

        using var body = JsonDocument.Parse(PaymentEventMessage.ToJsonBytes(outboxEvent));

        Assert.Equal("2026-11-27T10:15:30.0000000Z", body.RootElement.GetProperty("time").GetString());
    }
}
