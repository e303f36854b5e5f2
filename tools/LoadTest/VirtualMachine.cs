using Vending.Stack.Clients;
using System.Diagnostics;

namespace LoadTest;

/// <summary>A provisioned machine of the run: its id, key, merchant and capture mode.</summary>
public sealed record MachineProfile(string MachineId, string ApiKey, string MerchantId, string Currency, bool CaptureAtAuthorization);

/// <summary>Shared figures the machines and customers record into.</summary>
public sealed class DriveMetrics
{
    /// <summary>From the customer's approve call to the machine's long-poll answering with the authorization.</summary>
    public LatencyRecorder ApprovalToMachine { get; } = new();

    /// <summary>POST /api/payments, first answers that created the sale (201).</summary>
    public LatencyRecorder CreatePayment { get; } = new();

    private int _finished;

    public int Finished => Volatile.Read(ref _finished);

    public void SaleFinished() => Interlocked.Increment(ref _finished);
}

/// <summary>
/// One vending machine and the customers in front of it: sells <c>n</c> times over the public API, the customer
/// approving, aborting, walking away or giving up at the machine, the machine delivering, failing, delivering part,
/// cancelling or crashing (never reporting). Records what it did in a <see cref="SaleRecord"/> per sale.
/// </summary>
public sealed class VirtualMachine(
    MachineProfile profile,
    MachineApiClient api,
    HttpClient simulatorHttp,
    string simulatorBaseUrl,
    LoadOptions options,
    DriveMetrics metrics,
    Random random)
{
    private static readonly TimeSpan CallBudget = TimeSpan.FromSeconds(90);

    public MachineProfile Profile { get; } = profile;

    /// <summary>A fixed customer delay instead of a random 0.2-1.5 s (the storage calibration wants comparable sales).</summary>
    public TimeSpan? CustomerDelay { get; init; }

    /// <summary>The order lines of one sale: two products, so a partial vend can deliver one of them.</summary>
    public static object Lines(string currency) => new object[]
    {
        new { productId = "cola", name = "Cola 0.5 l", quantity = 1, unitPrice = UnitPrice(currency, "cola"), taxRate = 2500 },
        new { productId = "chips", name = "Potato chips", quantity = 2, unitPrice = UnitPrice(currency, "chips"), taxRate = 1500 },
    };

    public static long UnitPrice(string currency, string product) => (currency, product) switch
    {
        ("NOK", "cola") => 3500,
        ("NOK", _) => 2200,
        (_, "cola") => 2000,
        _ => 1250,
    };

    public static long SaleAmount(string currency) => UnitPrice(currency, "cola") + (2 * UnitPrice(currency, "chips"));

    public async Task RunAsync(int sales, Func<int, Scenario> scenarioFor, ICollection<SaleRecord> records, DateTimeOffset stopStartingAt, CancellationToken cancellationToken)
    {
        for (var n = 1; n <= sales && DateTimeOffset.UtcNow < stopStartingAt; n++)
        {
            var record = NewRecord($"s{n:D4}", scenarioFor(n), "drive");
            lock (records)
            {
                records.Add(record);
            }

            await SellAsync(record, cancellationToken);
            metrics.SaleFinished();
        }
    }

    public SaleRecord NewRecord(string machineSaleId, Scenario scenario, string phase) => new()
    {
        MachineId = Profile.MachineId,
        MachineSaleId = machineSaleId,
        MerchantId = Profile.MerchantId,
        CaptureAtAuthorization = Profile.CaptureAtAuthorization,
        Scenario = scenario,
        Amount = SaleAmount(Profile.Currency),
        Currency = Profile.Currency,
        Phase = phase,
    };

    /// <summary>Creates the sale; true when it exists in state Created with a QR (else the record says why not).</summary>
    public async Task<bool> CreateAsync(SaleRecord record, CancellationToken cancellationToken)
    {
        var body = new { machineSaleId = record.MachineSaleId, currency = Profile.Currency, lines = Lines(Profile.Currency), qr = new { format = "url" } };
        var answer = await api.CreateAsync(body, CallBudget, cancellationToken);

        // One open sale per machine: while the previous sale settles (or, after a crash, until the reconciler releases
        // it at the vend-report deadline) the machine waits and tries again with the same machine sale id.
        var blocked = Stopwatch.StartNew();
        var openSaleBudget = TimeSpan.FromSeconds(Math.Min(180, options.VendReportDeadlineSeconds + (4 * options.ReconcilerIntervalSeconds) + 60));
        record.OpenSaleRetries = 0;
        while (answer is { StatusCode: 409, Code: "open_sale_exists" } && blocked.Elapsed < openSaleBudget)
        {
            record.WaitedForOpenSale = true;
            record.OpenSaleRetries++;
            // Once a second, like a machine showing "please wait": a tighter loop would load the storage it measures.
            await Task.Delay(1000, cancellationToken);
            answer = await api.CreateAsync(body, CallBudget, cancellationToken);
        }

        if (answer.StatusCode == 201)
        {
            metrics.CreatePayment.Add(answer.Elapsed);
            record.CreateAnsweredAt = DateTimeOffset.UtcNow;
            record.CreateStartedAt = record.CreateAnsweredAt - answer.Elapsed;
        }

        if (!answer.Ok)
        {
            record.CreateAbandoned = MachineApiClient.IsTransient(answer.StatusCode);
            record.Note = $"create answered {answer.StatusCode} {answer.Code}: {answer.Str("title")}";
            return false;
        }

        record.Reference = answer.Str("reference");
        record.CreateState = answer.Str("state");
        record.LastMachineState = answer.Str("state");
        return answer.Str("state") == "Created" && record.Reference is not null;
    }

    public async Task SellAsync(SaleRecord record, CancellationToken cancellationToken)
    {
        if (!await CreateAsync(record, cancellationToken))
        {
            return;
        }

        var reference = record.Reference!;
        var approval = new ApprovalClock();
        var scenario = record.Scenario;
        if (scenario.Customer == CustomerAction.CancelAtMachine)
        {
            var giveUp = TimeSpan.FromMilliseconds(random.Next(300, 800));
            var race = scenario.RaceApproval
                ? CustomerAsync(record, CustomerAction.Approve, giveUp + TimeSpan.FromMilliseconds(random.Next(-40, 40)), approval, cancellationToken)
                : Task.CompletedTask;
            await Task.Delay(giveUp, cancellationToken);
            var cancel = await api.CancelAsync(reference, CallBudget, cancellationToken);
            record.LastMachineState = cancel.Str("state") ?? $"cancel answered {cancel.StatusCode} {cancel.Code}";
            await race;
            return;
        }

        var customer = CustomerAsync(record, scenario.Customer, CustomerDelay ?? TimeSpan.FromMilliseconds(random.Next(200, 1500)), approval, cancellationToken);
        var state = await WaitWhileCreatedAsync(record, approval, cancellationToken);
        await customer;
        if (state is null)
        {
            // Still Created long after the payment should have expired: the machine gives up, as a real one would.
            var cancel = await api.CancelAsync(reference, CallBudget, cancellationToken);
            record.LastMachineState = cancel.Str("state");
            record.Note = "machine gave up waiting and cancelled";
            return;
        }

        record.LastMachineState = state;
        var authorized = state == "Authorized" || (Profile.CaptureAtAuthorization && state is "Settling" or "Captured");
        if (!authorized)
        {
            return;
        }

        record.SawAuthorization = true;
        await Task.Delay(random.Next(50, 300), cancellationToken); // dispensing
        await ActAsync(record, scenario.Machine, cancellationToken);
    }

    /// <summary>Dispenses (or not) and reports what left the machine.</summary>
    public async Task ActAsync(SaleRecord record, MachineAction action, CancellationToken cancellationToken)
    {
        var reference = record.Reference!;
        switch (action)
        {
            case MachineAction.Crash:
                record.Note = "machine crashed before reporting";
                return;
            case MachineAction.CancelAfterAuthorization:
            {
                var cancel = await api.CancelAsync(reference, CallBudget, cancellationToken);
                record.LastMachineState = cancel.Str("state") ?? $"cancel answered {cancel.StatusCode} {cancel.Code}";
                return;
            }
        }

        var (report, delivered) = action switch
        {
            MachineAction.Deliver => ((object)new { outcome = "delivered" }, record.Amount),
            MachineAction.Fail => (new { outcome = "failed" }, 0L),
            _ => PartialReport(),
        };
        var answer = await api.VendAsync(reference, report, CallBudget, cancellationToken);
        if (answer.Ok)
        {
            record.VendAccepted = true;
            record.DeliveredAmount = delivered;
            record.LastMachineState = answer.Str("state");
        }
        else
        {
            record.VendRefusal = $"{answer.StatusCode} {answer.Code}";
            record.VendRefusalCode = answer.Code;
            record.RefusedDeliveredAmount = delivered;
        }
    }

    private (object Report, long Delivered) PartialReport()
    {
        // Either the cola only, or one of the two bags of chips: always something, never everything.
        var colaOnly = random.Next(2) == 0;
        var lines = colaOnly
            ? new object[] { new { productId = "cola", quantity = 1 } }
            : new object[] { new { productId = "chips", quantity = 1 } };
        var delivered = colaOnly ? UnitPrice(Profile.Currency, "cola") : UnitPrice(Profile.Currency, "chips");
        return (new { outcome = "partial", deliveredLines = lines }, delivered);
    }

    /// <summary>Long-polls while the sale is Created; null when it stayed Created far past the payment's expiry.</summary>
    private async Task<string?> WaitWhileCreatedAsync(SaleRecord record, ApprovalClock approval, CancellationToken cancellationToken)
    {
        var giveUpAt = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(options.PaymentExpirySeconds + 45);
        while (giveUpAt.Elapsed < limit)
        {
            var answer = await api.WaitAsync(record.Reference!, "Created", 10, CallBudget, cancellationToken);
            if (!answer.Ok)
            {
                record.Note = $"long-poll answered {answer.StatusCode} {answer.Code}";
                return answer.StatusCode == 404 ? "NotFound" : null;
            }

            if (answer.Str("state") is { } state && state != "Created")
            {
                if (approval.ElapsedSinceApproval() is { } latency)
                {
                    metrics.ApprovalToMachine.Add(latency);
                    // With several instances: which one answered, to compare with where the AUTHORIZED webhook landed.
                    record.ApprovalToMachine = latency;
                    record.ApprovalAnsweredBy = answer.Instance;
                    record.ApprovalAnsweredAt = DateTimeOffset.UtcNow;
                    record.ApprovedAt = approval.StartedAtUtc;
                }

                return state;
            }
        }

        return null;
    }

    private async Task CustomerAsync(SaleRecord record, CustomerAction action, TimeSpan delay, ApprovalClock approval, CancellationToken cancellationToken)
    {
        await Task.Delay(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken);
        var verb = action switch
        {
            CustomerAction.Approve => "approve",
            CustomerAction.Abort => "abort",
            _ => "open",
        };
        if (action == CustomerAction.Approve)
        {
            approval.Start();
        }

        record.ApproveOutcome = await SimulatorCustomerAsync(simulatorHttp, simulatorBaseUrl, record.Reference!, verb, cancellationToken);
        if (action == CustomerAction.Approve && record.ApproveOutcome != "approve: 200")
        {
            approval.Clear();
        }
    }

    /// <summary><c>POST /_sim/payments/{reference}/{approve|abort|open}</c>: "verb: status".</summary>
    public static async Task<string> SimulatorCustomerAsync(HttpClient http, string simulatorBaseUrl, string reference, string verb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        try
        {
            using var response = await http.PostAsync(new Uri($"{simulatorBaseUrl}/_sim/payments/{reference}/{verb}"), null, cancellationToken);
            return $"{verb}: {(int)response.StatusCode}";
        }
        catch (HttpRequestException exception)
        {
            return $"{verb}: {exception.Message}";
        }
    }

    /// <summary>When the customer pressed approve (a monotonic timestamp), for the approval-to-machine latency.</summary>
    private sealed class ApprovalClock
    {
        private long _startedAt;
        private long _startedAtUtcTicks;

        /// <summary>The same moment on the wall clock (for comparing with the simulator's delivery log).</summary>
        public DateTimeOffset? StartedAtUtc => Interlocked.Read(ref _startedAtUtcTicks) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

        public void Start()
        {
            Interlocked.Exchange(ref _startedAtUtcTicks, DateTimeOffset.UtcNow.UtcTicks);
            Interlocked.Exchange(ref _startedAt, Stopwatch.GetTimestamp());
        }

        public void Clear() => Interlocked.Exchange(ref _startedAt, 0);

        public TimeSpan? ElapsedSinceApproval() =>
            Interlocked.Read(ref _startedAt) is > 0 and var started ? Stopwatch.GetElapsedTime(started) : null;
    }
}
