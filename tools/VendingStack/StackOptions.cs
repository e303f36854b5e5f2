using Vending.Stack.Instances;

namespace Vending.Stack;

/// <summary>Who starts the stack; each has its own defaults (<see cref="StackOptions.For"/>).</summary>
public enum StackProfile
{
    /// <summary><c>./run.sh</c>: the usual local ports (Azurite 10000-10002, simulator 7071, app 7072), a demo machine.</summary>
    Run,

    /// <summary>The end-to-end tests: free ports, timers every second, queues polled every quarter second, fast webhook retries.</summary>
    EndToEnd,

    /// <summary>The load harness: free ports, instances as child processes it can kill, warnings-only logs, compressed deadlines.</summary>
    Load,
}

/// <summary>How webhooks are registered at Vipps before the first sale.</summary>
public enum WebhookSetup
{
    /// <summary>Through the product's own <c>POST /api/operator/webhooks/ensure</c> once the app is up: the app registers
    /// one per merchant at its public URL and keeps the secret in its store (as after a deploy).</summary>
    Ensure,

    /// <summary>At Vipps directly before the app starts, each secret put into configuration
    /// (<c>Vipps:Merchants:{id}:WebhookSecret</c>), as an operator who registered by hand; ensure later adopts them.</summary>
    ConfiguredSecret,
}

/// <summary>
/// Every setting of the local stack, in one place. Start from <see cref="For"/> and change what differs; the stack
/// turns these into the simulator's and the app's settings (<see cref="VendingStack"/>), nothing else does.
/// </summary>
public sealed class StackOptions
{
    public StackProfile Profile { get; set; }

    /// <summary>How many instances of the Function App run over the same storage; more than one puts a round-robin front before them.</summary>
    public int Instances { get; set; } = 1;

    /// <summary>How an instance is hosted: <see cref="FunctionAppHosting.WorkerHost"/> (default: the Functions host in
    /// this process, the real isolated worker beside it) or <see cref="FunctionAppHosting.ChildProcess"/> (both killable).</summary>
    public FunctionAppFactory FunctionAppFactory { get; set; } = FunctionAppHosting.WorkerHost;

    /// <summary>0 = a free port. Blob, queue and table use this and the next two.</summary>
    public int AzuritePort { get; set; }

    public int SimulatorPort { get; set; }

    /// <summary>Where the app answers: the single instance, or the front before several (0 = a free port).</summary>
    public int AppPort { get; set; }

    /// <summary>The operator's function key (<c>x-functions-key</c>).</summary>
    public string FunctionKey { get; set; } = "local-operator-key";

    public WebhookSetup Webhooks { get; set; } = WebhookSetup.Ensure;

    /// <summary>Authorized with no vend report for this long: the reconciler releases (null = the product's setting).</summary>
    public int? VendReportDeadlineSeconds { get; set; }

    /// <summary>Every timer (reconciler, outbox sweep, watchdog) at this interval instead of its schedule (null = its schedule).</summary>
    public int? TimerIntervalSeconds { get; set; }

    /// <summary>How often an idle queue is polled at most (null = host.json's).</summary>
    public TimeSpan? QueueMaxPollingInterval { get; set; }

    /// <summary>A Vipps payment not approved within this expires (null = the simulator's default).</summary>
    public int? PaymentExpirySeconds { get; set; }

    /// <summary>The JSON-lines file the outbox publishes payment events to (null = a fresh temporary file).</summary>
    public string? EventsPath { get; set; }

    /// <summary>The <c>local.settings.json</c> the app reads <c>Values</c> from (null = the repository's sample, never a developer's own file).</summary>
    public string? LocalSettingsPath { get; set; }

    /// <summary>Where child-process logs and temporary files go (null = a fresh temporary folder).</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>The app's ASP.NET Core environment (Development turns on DI scope validation).</summary>
    public string EnvironmentName { get; set; } = "Development";

    /// <summary>The storage connection string the app uses instead of Azurite's own (e.g. a counting proxy's), given Azurite's.</summary>
    public Func<Vending.Testing.Azurite, Task<string>>? StorageConnection { get; set; }

    /// <summary>Simulator settings (keys like <c>Simulator:PaymentExpirySeconds</c>), over the profile's.</summary>
    public Dictionary<string, string?> SimulatorSettings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>App settings (keys like <c>Vending:ExpiryGraceSeconds</c>), over everything else.</summary>
    public Dictionary<string, string?> AppSettings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Progress lines while booting (null = quiet).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>The defaults of one of the stack's three users.</summary>
    public static StackOptions For(StackProfile profile) => profile switch
    {
        StackProfile.Run => new StackOptions
        {
            Profile = profile,
            AzuritePort = 10000,
            SimulatorPort = 7071,
            AppPort = 7072,
            Log = Console.WriteLine,
        },
        StackProfile.EndToEnd => new StackOptions
        {
            Profile = profile,
            FunctionKey = "e2e-function-key",
            TimerIntervalSeconds = 1,
            QueueMaxPollingInterval = TimeSpan.FromMilliseconds(250),
            SimulatorSettings = new(StringComparer.OrdinalIgnoreCase)
            {
                // Tests hammer one reference more than a merchant would: do not let the limits decide a test.
                ["Simulator:RateLimits:AdjustmentsPerMinute"] = "10000",
                ["Simulator:RateLimits:QueriesPerMinute"] = "100000",
                ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.05,0.1,0.2,0.5",
                ["Simulator:Webhooks:TimeoutSeconds"] = "5",
            },
            AppSettings = new(StringComparer.OrdinalIgnoreCase)
            {
                ["Vipps:RetryBaseDelayMilliseconds"] = "50",
            },
        },
        StackProfile.Load => new StackOptions
        {
            Profile = profile,
            FunctionKey = "load-" + Guid.NewGuid().ToString("N"),
            FunctionAppFactory = FunctionAppHosting.ChildProcess,
            EnvironmentName = "Production",
        },
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };
}
