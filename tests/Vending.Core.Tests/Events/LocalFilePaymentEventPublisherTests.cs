using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vending.Core.Events;

namespace Vending.Core.Tests.Events;

public sealed class LocalFilePaymentEventPublisherTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "vending-events-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Creates_the_folder_and_appends_one_parseable_line_per_event_in_order()
    {
        var path = Path.Combine(_folder, "nested", "events.jsonl");
        using var sink = new LocalFilePaymentEventPublisher(path, NullLogger<LocalFilePaymentEventPublisher>.Instance);

        for (var sequence = 1; sequence <= 3; sequence++)
        {
            await sink.PublishAsync(OutboxTestData.Event("sale-1", sequence), CancellationToken.None);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Assert.Equal(
            ["sale-1-000001", "sale-1-000002", "sale-1-000003"],
            lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()));
        Assert.Equal(
            [1L, 2L, 3L],
            lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("data").GetProperty("sequence").GetInt64()));
    }

    [Fact]
    public async Task Keeps_what_is_already_in_the_file()
    {
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "events.jsonl");
        await File.WriteAllTextAsync(path, "{\"id\":\"earlier\"}\n");
        using var sink = new LocalFilePaymentEventPublisher(path, NullLogger<LocalFilePaymentEventPublisher>.Instance);

        await sink.PublishAsync(OutboxTestData.Event("sale-1", 1), CancellationToken.None);

        Assert.Equal(
            ["earlier", "sale-1-000001"],
            (await File.ReadAllLinesAsync(path)).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Concurrent_publishes_never_tear_or_lose_a_line()
    {
        var path = Path.Combine(_folder, "events.jsonl");
        using var sink = new LocalFilePaymentEventPublisher(path, NullLogger<LocalFilePaymentEventPublisher>.Instance);

        await Task.WhenAll(Enumerable.Range(1, 64).Select(sequence =>
            Task.Run(() => sink.PublishAsync(OutboxTestData.Event($"sale-{sequence}", sequence), CancellationToken.None))));

        var ids = (await File.ReadAllLinesAsync(path))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString())
            .Order()
            .ToList();
        Assert.Equal(Enumerable.Range(1, 64).Select(sequence => $"sale-{sequence}-{sequence:D6}").Order(), ids);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
