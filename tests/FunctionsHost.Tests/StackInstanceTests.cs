using System.Net;
using Vending.Stack;
using Vending.Stack.Clients;
using Vending.Stack.Instances;

namespace FunctionsHost.Tests;

/// <summary>The host as the stack library's instance (<see cref="FunctionAppHosting"/>): in this process with its log
/// readable at the spec's LogPath, one line per record; and as a child process that dies with its worker like a crash
/// and comes back on the same port with nothing lost.</summary>
public sealed class StackInstanceTests
{
    [Fact]
    public async Task In_process_host_writes_one_line_per_record_with_level_category_and_message_to_the_log_path()
    {
        var options = StackOptions.For(StackProfile.EndToEnd);
        options.FunctionAppFactory = FunctionAppHosting.WorkerHost;
        await using var stack = await VendingStack.StartAsync(options);
        var instance = Assert.IsType<WorkerHostFunctionApp>(Assert.Single(stack.Instances));
        Assert.NotNull(instance.WorkerProcessId);

        using var http = new HttpClient { BaseAddress = stack.AppUrl };
        using var health = await http.GetAsync("api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // The worker's own record (its middleware's request line, sent as RpcLog) on one line with level and category.
        await HostStack.WaitUntilAsync(
            () => Task.FromResult(ReadLines(instance.LogPath).Any(l => l.StartsWith("info: VendingFunctions.Http.HttpPipelineMiddleware[0] HTTP GET /api/health ran function Health: 200", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "the worker's request line in " + instance.LogPath);
        // Every line is a whole record in the console's single-line shape: level, category, event id, message.
        Assert.All(ReadLines(instance.LogPath), line => Assert.Matches(@"^(trce|dbug|info|warn|fail|crit): [^\s\[]+\[-?\d+\] ", line));
        Assert.DoesNotContain(ReadLines(instance.LogPath), line => stack.Secrets.Any(secret => line.Contains(secret, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Child_process_host_killed_mid_sale_takes_its_worker_with_it_and_the_sale_completes_after_the_restart()
    {
        var options = StackOptions.For(StackProfile.EndToEnd);
        options.FunctionAppFactory = FunctionAppHosting.ChildProcess;
        await using var stack = await VendingStack.StartAsync(options);
        var instance = Assert.IsType<ChildProcessFunctionApp>(Assert.Single(stack.Instances));
        using var operatorClient = stack.NewOperatorClient();
        var machine = stack.Remember(await operatorClient.ProvisionMachineAsync(new MachineRegistration($"crash-{Guid.NewGuid():N}"[..20], "Crash", "Lab")));
        using var client = stack.NewMachineClient(machine);

        var reference = (await client.CreateSaleAsync(MachineApiClient.Cola(1500))).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await client.WaitForStateAsync(reference, "Authorized");

        var host = instance.ProcessId!.Value;
        var workers = ChildrenOf(host);
        Assert.NotEmpty(workers);
        await instance.StopAsync();
        Assert.False(Alive(host), "the host is gone");
        Assert.All(workers, worker => Assert.False(Alive(worker), $"worker {worker} is gone with its host"));
        // Memory is sampled per process (the harness judges its target on the worker's): both were seen, and the
        // highest sum lies between the larger peak and the two peaks added.
        var (workerPeak, hostPeak, bothPeak) = (instance.PeakWorkerMemoryBytes!.Value, instance.PeakHostMemoryBytes!.Value, instance.PeakMemoryBytes!.Value);
        Assert.True(workerPeak > 0 && hostPeak > 0, $"worker {workerPeak} B, host {hostPeak} B");
        Assert.InRange(bothPeak, Math.Max(workerPeak, hostPeak), workerPeak + hostPeak);

        // A setting changed in between reaches the next start (the host's worker-start line is not logged at Warning).
        var workerStarts = ReadLines(instance.LogPath).Count(l => l.StartsWith("info: FunctionsHost.Worker[0] Started worker process", StringComparison.Ordinal));
        Assert.Equal(1, workerStarts);
        stack.SetAppSetting("Logging:LogLevel:FunctionsHost.Worker", "Warning");
        await instance.StartAsync(CancellationToken.None);
        Assert.Equal(2, instance.Starts);
        Assert.Equal(workerStarts, ReadLines(instance.LogPath).Count(l => l.StartsWith("info: FunctionsHost.Worker[0] Started worker process", StringComparison.Ordinal)));
        (await client.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);

        var captured = await client.WaitForStateAsync(reference, "Captured", TimeSpan.FromSeconds(60));
        Assert.Equal(1500, captured.Json.GetProperty("capturedAmount").GetInt64());
        Assert.Equal(1500L, stack.Simulator.Ledger.Find(reference)!.Captured);
        Assert.Contains(ReadLines(instance.LogPath), l => l.StartsWith("info: VendingFunctions.Http.HttpPipelineMiddleware[0] HTTP POST /api/payments/" + reference + "/vend ran function", StringComparison.Ordinal));
    }

    private static List<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("---- start", StringComparison.Ordinal)).ToList();
    }

    private static List<int> ChildrenOf(int pid) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)
            .ToList();

    // Gone, or a zombie nobody has reaped yet (an orphaned worker belongs to init): either way it runs nothing.
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
