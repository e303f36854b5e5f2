using Azure.Storage.Queues;
using LocalRunner;
using Moq;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Reconciliation;
using Vending.Testing;

namespace VendingFunctions.Tests;

/// <summary>
/// The runner's queue and timer triggers against a real Azurite: a base64 message reaches the queue function with its
/// dequeue count, a message that keeps failing moves to the poison queue after host.json's maxDequeueCount and reaches
/// the poison function, and the reconciler timer runs (then sweeps the outbox).
/// </summary>
public sealed class LocalRunnerTriggerTests : IAsyncLifetime
{
    // Generous bounds for a loaded 2-core machine; the tests wait on signals, never on the clock.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private readonly TaskCompletionSource<long> _goodProcessed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _poisonProcessed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reconciled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _swept = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<long> _badAttempts = [];
    private Azurite _azurite = null!;
    private LocalRunnerApp _runner = null!;
    private string _hostJson = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();

        // Two attempts, immediate retry and fast polling: the test's own host.json, read as the runner reads the real one.
        _hostJson = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_hostJson, """
            { "version": "2.0", "extensions": { "queues": { "maxDequeueCount": 2, "visibilityTimeout": "00:00:00", "maxPollingInterval": "00:00:00.200", "messageEncoding": "base64" } } }
            """);

        var processor = new Mock<ISaleCommandProcessor>();
        processor.Setup(p => p.ProcessAsync("good", It.IsAny<long>(), It.IsAny<CancellationToken>()))
            .Returns((string _, long count, CancellationToken _) => { _goodProcessed.TrySetResult(count); return Task.CompletedTask; });
        processor.Setup(p => p.ProcessAsync("bad", It.IsAny<long>(), It.IsAny<CancellationToken>()))
            .Returns((string _, long count, CancellationToken _) =>
            {
                lock (_badAttempts)
                {
                    _badAttempts.Add(count);
                }

                throw new InvalidOperationException("the command keeps failing");
            });
        processor.Setup(p => p.ProcessPoisonAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string text, CancellationToken _) => { _poisonProcessed.TrySetResult(text); return Task.CompletedTask; });

        var reconciler = new Mock<IReconciler>();
        reconciler.Setup(r => r.RunOnceAsync(It.IsAny<CancellationToken>()))
            .Returns(() => { _reconciled.TrySetResult(); return Task.FromResult(new ReconcileReport(0, 0, 0, 0)); });
        var outbox = new Mock<IOutboxDispatcher>();
        outbox.Setup(o => o.SweepAsync(It.IsAny<CancellationToken>()))
            .Returns(() => { _swept.TrySetResult(); return Task.FromResult(0); });

        var options = RunnerSettings.Create(services =>
        {
            services.AddSingleton(processor.Object);
            services.AddSingleton(reconciler.Object);
            services.AddSingleton(outbox.Object);
        }, storage: _azurite.ConnectionString, runTriggers: true);
        options.Settings["LocalRunner:HostJsonPath"] = _hostJson;
        options.Settings["Reconciler:Schedule"] = "*/1 * * * * *";
        _runner = await LocalRunnerApp.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        await _runner.DisposeAsync();
        await _azurite.DisposeAsync();
        File.Delete(_hostJson);
    }

    private QueueClient Queue(string name) =>
        new(_azurite.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    [Fact]
    public async Task Queue_messages_run_the_function_and_failing_ones_end_in_the_poison_function()
    {
        var queue = Queue(QueueNames.SaleCommands);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("good");
        await queue.SendMessageAsync("bad");

        Assert.Equal(1, await _goodProcessed.Task.WaitAsync(Bound));
        Assert.Equal("bad", await _poisonProcessed.Task.WaitAsync(Bound));
        lock (_badAttempts)
        {
            Assert.Equal([1L, 2L], _badAttempts);
        }
    }

    [Fact]
    public async Task The_reconciler_timer_runs_and_then_sweeps_the_outbox()
    {
        await _reconciled.Task.WaitAsync(Bound);
        await _swept.Task.WaitAsync(Bound);
    }
}
