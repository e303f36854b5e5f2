using System.Diagnostics;
using Azure.Data.Tables;
using Vending.Stack;
using Vending.Stack.Clients;
using Vending.Stack.Instances;
using VippsSimulator.Hosting;

namespace LoadTest.Phases;

/// <summary>
/// What the phases of one run share: the options, the report they fill, the stack and its clients (set by
/// <see cref="SetupPhase"/>), the drive's machines and every sale record. Owns the stack, the storage proxy and the
/// HTTP clients: disposing it tears the run down.
/// </summary>
internal sealed class RunContext(LoadOptions options) : IAsyncDisposable
{
    private VendingStack? _stack;

    public LoadOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    public Action<string> Log { get; } = options.Log ?? (_ => { });

    /// <summary>The whole run's clock (setup included), for <see cref="RunInfo.TotalSeconds"/>.</summary>
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public LoadReport Report { get; } = new()
    {
        Run = new RunInfo
        {
            Machines = options.Machines,
            SalesPerMachine = options.SalesPerMachine,
            Faults = options.Faults,
            Seed = options.Seed,
            ReconcilerIntervalSeconds = options.ReconcilerIntervalSeconds,
            VendReportDeadlineSeconds = options.VendReportDeadlineSeconds,
            PaymentExpirySeconds = options.PaymentExpirySeconds,
            StorageProxy = options.CountStorage,
        },
    };

    public VendingStack Stack
    {
        get => _stack ?? throw new InvalidOperationException("The stack is not started yet (SetupPhase).");
        set => _stack = value;
    }

    public RunningSimulator Simulator => Stack.Simulator;

    /// <summary>The counting proxy between the runner and Azurite; null with <c>--no-storage-count</c>.</summary>
    public StorageProxy? Proxy { get; set; }

    /// <summary>Straight to Azurite (not through the proxy): the harness' own reads are not counted.</summary>
    public TableServiceClient Tables { get; set; } = null!;

    public OperatorApiClient Operator { get; set; } = null!;

    /// <summary>The stack's merchants with their currency, NOK first.</summary>
    public (string Id, string Currency)[] Merchants { get; set; } = [];

    /// <summary>The machine API's shared client (through the front with several instances).</summary>
    public HttpClient Http { get; set; } = null!;

    /// <summary>The customers' client for the simulator's approve/reject endpoints.</summary>
    public HttpClient SimulatorHttp { get; set; } = null!;

    public DriveMetrics Metrics { get; } = new();

    /// <summary>Every sale the harness started, in every phase; read by the settle waits and the invariants.</summary>
    public List<SaleRecord> Records { get; } = [];

    /// <summary>The drive's machines, provisioned by <see cref="SetupPhase"/>.</summary>
    public List<VirtualMachine> Machines { get; set; } = [];

    /// <summary>What storage and Vipps' ledger say at the end (<see cref="ObservePhase"/>).</summary>
    public Observation? Observation { get; set; }

    public VirtualMachine NewMachine(MachineProfile profile, DriveMetrics metrics, Random random) =>
        new(profile, new MachineApiClient(Http, new ProvisionedMachine(profile.MachineId, profile.ApiKey)), SimulatorHttp, Simulator.BaseUrl, Options, metrics, random);

    public async Task<MachineProfile> ProvisionOneAsync(string machineId, string merchant, string currency, bool atAuthorization, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var machine = await Operator.ProvisionMachineAsync(new MachineRegistration(
            machineId, $"Load machine {machineId}", "Load test", merchant, currency, atAuthorization ? "OnAuthorization" : "OnDelivery", "url"), timeout.Token);
        return new MachineProfile(machineId, machine.ApiKey, merchant, currency, atAuthorization);
    }

    /// <summary>Waits until every started sale is final with nothing pending (or gives up after <paramref name="timeout"/>).</summary>
    public async Task WaitUntilSettledAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var settled = await Wait.UntilAsync(async () =>
        {
            var rows = await SalesTable.ReadSalesAsync(Tables, cancellationToken);
            var byKey = rows.ToDictionary(r => (r.MachineId, r.MachineSaleId));
            return Records.All(r => byKey.TryGetValue((r.MachineId, r.MachineSaleId), out var row)
                ? Invariants.FinalStates.Contains(row.State) && row.PendingOperations == 0
                : r.CreateAbandoned || r.Reference is null);
        }, timeout, cancellationToken, TimeSpan.FromSeconds(1));
        if (!settled)
        {
            Log($"Not every sale settled within {timeout.TotalSeconds:F0} s (the invariants will name them).");
        }
    }

    /// <summary>The runner processes' peak memory, read whether or not the run got through.</summary>
    public void RecordPeakMemory()
    {
        if (_stack is null)
        {
            return;
        }

        var processes = _stack.Instances.OfType<ChildProcessFunctionApp>().ToList();
        Report.Runner.PeakWorkerMemoryBytes = processes.Max(p => p.PeakWorkerMemoryBytes);
        Report.Runner.PeakHostMemoryBytes = processes.Max(p => p.PeakHostMemoryBytes);
        Report.Runner.PeakMemoryBytes = processes.Max(p => p.PeakMemoryBytes);
        Report.Runner.PeakRssBytes = processes.Max(p => p.PeakRssBytes);
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        SimulatorHttp?.Dispose();
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }

        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
    }
}
