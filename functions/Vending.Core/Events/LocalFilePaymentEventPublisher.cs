using Microsoft.Extensions.Logging;

namespace Vending.Core.Events;

/// <summary>
/// Appends each event as one JSON line to a file (<c>Events:LocalSinkPath</c>), for local runs without a Service
/// Bus namespace: <c>tail -f .local/events.jsonl</c> shows what a back office would receive.
/// </summary>
public sealed class LocalFilePaymentEventPublisher : IPaymentEventPublisher, IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    // One writer at a time inside this process, so lines never interleave; the file is opened per event with
    // shared read access so `tail -f` and other readers can follow it.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger<LocalFilePaymentEventPublisher> _logger;

    public LocalFilePaymentEventPublisher(string path, ILogger<LocalFilePaymentEventPublisher> logger)
    {
        Path = System.IO.Path.GetFullPath(path);
        _logger = logger;
    }

    /// <summary>The absolute path of the JSON-lines file.</summary>
    public string Path { get; }

    public async Task PublishAsync(OutboxEvent outboxEvent, CancellationToken cancellationToken)
    {
        var line = PaymentEventMessage.ToJsonBytes(outboxEvent);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var folder = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 4096, useAsync: true);
            // Line and newline in one write: a reader never sees half a line followed by another event.
            var record = new byte[line.Length + NewLine.Length];
            line.CopyTo(record, 0);
            NewLine.CopyTo(record, line.Length);
            // Once started, the write finishes: cancelling halfway would leave a torn line in the file.
            await file.WriteAsync(record, CancellationToken.None);
            await file.FlushAsync(CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }

        _logger.LogInformation(
            "Payment event {EventId} ({EventType}) for sale {Reference} written to {SinkPath}",
            outboxEvent.EventId, outboxEvent.Type, outboxEvent.Reference, Path);
    }

    public void Dispose() => _gate.Dispose();
}
