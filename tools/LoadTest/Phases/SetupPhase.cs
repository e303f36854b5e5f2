using System.Globalization;
using Azure.Data.Tables;
using Vending.Stack;
using Vending.Stack.Clients;

namespace LoadTest.Phases;

/// <summary>
/// Starts the stack in its load profile (Azurite, the counting storage proxy unless <c>--no-storage-count</c>, the
/// Vipps simulator in process, N instances of the Function App as child processes), opens the clients every later
/// phase uses, and provisions the drive's machines over the operator API.
/// </summary>
internal static class SetupPhase
{
    public static async Task RunAsync(RunContext run, CancellationToken cancellationToken)
    {
        var options = run.Options;
        var work = Path.Combine(Path.GetTempPath(), "vending-loadtest", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(work);
        run.Report.Run.WorkDirectory = work;

        var stackOptions = StackOptions.For(StackProfile.Load);
        stackOptions.Instances = options.Instances;
        stackOptions.WorkDirectory = work;
        stackOptions.Log = run.Log;
        stackOptions.PaymentExpirySeconds = options.PaymentExpirySeconds;
        stackOptions.VendReportDeadlineSeconds = options.VendReportDeadlineSeconds;
        // The storage calibration runs first on an incarnation with its timers idle (see CalibrationPhase).
        stackOptions.TimerIntervalSeconds = CalibrationPhase.Wanted(options) ? 3600 : options.ReconcilerIntervalSeconds;
        stackOptions.StorageConnection = async azurite =>
        {
            if (!options.CountStorage)
            {
                return azurite.ConnectionString;
            }

            run.Proxy = await StorageProxy.StartAsync(azurite.TablePort, azurite.QueuePort);
            return run.Proxy.ConnectionString(azurite.BlobPort);
        };
        foreach (var (key, value) in SimulatorSettings(options))
        {
            stackOptions.SimulatorSettings[key] = value;
        }

        foreach (var (key, value) in AppSettings())
        {
            stackOptions.AppSettings[key] = value;
        }

        run.Stack = await VendingStack.StartAsync(stackOptions, cancellationToken);
        run.Report.Run.Instances = run.Stack.Instances.Count;
        run.Tables = new TableServiceClient(run.Stack.StorageConnectionString);
        run.Operator = run.Stack.NewOperatorClient();
        run.Merchants = Merchants(run.Stack.Settings);
        run.Http = MachineApiClient.CreateSharedHttpClient(run.Stack.AppUrl);
        run.SimulatorHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        run.Log($"Provisioning {options.Machines} machines ...");
        var profiles = await ProvisionAsync(run, cancellationToken);
        run.Machines = [.. profiles.Select((profile, i) => run.NewMachine(profile, run.Metrics, new Random(HashCode.Combine(options.Seed, i))))];
    }

    private static (string Id, string Currency)[] Merchants(IReadOnlyDictionary<string, string?> settings) =>
        settings.Where(kv => kv.Key.StartsWith("Vipps:Merchants:", StringComparison.OrdinalIgnoreCase) && kv.Key.EndsWith(":Currencies:0", StringComparison.OrdinalIgnoreCase))
            .Select(kv => (kv.Key.Split(':')[2], kv.Value!))
            .OrderBy(m => m.Item2 == "NOK" ? 0 : 1)
            .ToArray();

    private static Dictionary<string, string?> SimulatorSettings(LoadOptions options) => new()
    {
        ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
        ["Simulator:PaymentExpirySeconds"] = options.PaymentExpirySeconds.ToString(CultureInfo.InvariantCulture),
        ["Simulator:ExpirySweepIntervalMilliseconds"] = "250",
        // Retries and re-polls of a whole run must never hit Vipps' per-payment limits (a load artefact, not a product path).
        ["Simulator:RateLimits:AdjustmentsPerMinute"] = "1000",
        ["Simulator:RateLimits:QueriesPerMinute"] = "100000",
        // Compressed: a webhook that failed while the runner was down comes again within a second or two.
        ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.2,0.5,1,1,2",
        ["Simulator:Webhooks:MaxAttempts"] = "60",
        ["Simulator:Webhooks:TimeoutSeconds"] = "10",
    };

    /// <summary>The app settings of a load run, over the sample's (the stack wires storage, Vipps, URLs and keys).</summary>
    private static Dictionary<string, string?> AppSettings() => new(StringComparer.OrdinalIgnoreCase)
    {
        // A hung Vipps call is given up after 3 s and retried with the same idempotency key.
        ["Vipps:AttemptTimeoutSeconds"] = "3",
        ["Vipps:TotalTimeoutSeconds"] = "20",
        ["Vending:ExpiryGraceSeconds"] = "2",
        ["Vending:CommandStaleSeconds"] = "10",
        ["Reconciler:Schedule"] = "*/10 * * * * *",
        ["Events:TopicName"] = "payment-events",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // One line per reconciler pass ("Reconciler examined N sales ..."): the reconciler-scale phase counts passes by it.
        ["Logging:LogLevel:VendingFunctions.Timers.ReconcilerFunction"] = "Information",
    };

    private static async Task<List<MachineProfile>> ProvisionAsync(RunContext run, CancellationToken cancellationToken)
    {
        var profiles = new MachineProfile[run.Options.Machines];
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, run.Options.Machines).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                // Every tenth machine captures at authorization; half of the rest sell through MobilePay (DKK).
                // (A small run still gets one such machine, its last.)
                var atAuthorization = i % 10 == 9 || (run.Options.Machines is >= 3 and < 10 && i == run.Options.Machines - 1);
                var (merchant, currency) = run.Merchants[i % 2];
                profiles[i] = await run.ProvisionOneAsync($"lt-m{i:D3}", merchant, currency, atAuthorization, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. profiles];
    }
}
