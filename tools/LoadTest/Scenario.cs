using System.Text.Json.Serialization;

namespace LoadTest;

/// <summary>What the customer in front of the machine does.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CustomerAction>))]
public enum CustomerAction
{
    /// <summary>Scans and approves in the app after a short random delay.</summary>
    Approve,

    /// <summary>Scans and aborts in the app.</summary>
    Abort,

    /// <summary>Scans (opens the page) and walks away: the payment expires.</summary>
    WalkAway,

    /// <summary>Gives up at the machine, which cancels; half of these customers approve at the same moment (the race).</summary>
    CancelAtMachine,
}

/// <summary>What the machine does once the sale is authorized.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MachineAction>))]
public enum MachineAction
{
    Deliver,
    Fail,
    DeliverPart,

    /// <summary>Never reports: the reconciler must release the reservation after the vend-report deadline.</summary>
    Crash,

    /// <summary>Cancels after authorization (e.g. the door jammed before dispensing).</summary>
    CancelAfterAuthorization,
}

public sealed record Scenario(CustomerAction Customer, MachineAction Machine, bool RaceApproval)
{
    /// <summary>Every path once, for small runs that must cover them all (the test's rotation).</summary>
    public static readonly IReadOnlyList<Scenario> Rotation =
    [
        new(CustomerAction.Approve, MachineAction.Deliver, false),
        new(CustomerAction.Approve, MachineAction.Crash, false),
        new(CustomerAction.Approve, MachineAction.DeliverPart, false),
        new(CustomerAction.WalkAway, MachineAction.Deliver, false),
        new(CustomerAction.Approve, MachineAction.Fail, false),
        new(CustomerAction.CancelAtMachine, MachineAction.Deliver, true),
        new(CustomerAction.Abort, MachineAction.Deliver, false),
        new(CustomerAction.Approve, MachineAction.CancelAfterAuthorization, false),
        new(CustomerAction.Approve, MachineAction.Deliver, false),
    ];

    /// <summary>The mix of a load run: mostly happy path, every fault path well represented.</summary>
    public static Scenario Draw(Random random, bool captureAtAuthorization)
    {
        ArgumentNullException.ThrowIfNull(random);
        var c = random.NextDouble();
        var customer = c switch
        {
            < 0.75 => CustomerAction.Approve,
            < 0.83 => CustomerAction.Abort,
            < 0.90 => CustomerAction.WalkAway,
            _ => CustomerAction.CancelAtMachine,
        };

        // Capture-at-authorization machines are the ones that always deliver (CaptureMode.OnAuthorization's premise).
        var m = random.NextDouble();
        var machine = captureAtAuthorization ? MachineAction.Deliver : m switch
        {
            < 0.70 => MachineAction.Deliver,
            < 0.78 => MachineAction.Fail,
            < 0.86 => MachineAction.DeliverPart,
            < 0.94 => MachineAction.Crash,
            _ => MachineAction.CancelAfterAuthorization,
        };
        return new Scenario(customer, machine, RaceApproval: random.NextDouble() < 0.5);
    }
}

/// <summary>What the harness did and saw for one sale: the ground truth the invariants compare storage and Vipps with.</summary>
public sealed class SaleRecord
{
    public required string MachineId { get; init; }
    public required string MachineSaleId { get; init; }
    public required string MerchantId { get; init; }
    public required bool CaptureAtAuthorization { get; init; }
    public required Scenario Scenario { get; init; }
    public required long Amount { get; init; }

    /// <summary>ISO currency of <see cref="Amount"/> and every amount of this sale.</summary>
    public string Currency { get; init; } = "";

    public string Phase { get; init; } = "drive";

    public string? Reference { get; set; }

    /// <summary>The create never got an answer (every retry failed): the sale may or may not exist.</summary>
    public bool CreateAbandoned { get; set; }

    /// <summary>The state the create answered (Created, or Failed when Vipps refused).</summary>
    public string? CreateState { get; set; }

    /// <summary>The create was refused while the machine's previous sale was still open, and retried.</summary>
    public bool WaitedForOpenSale { get; set; }

    public int OpenSaleRetries { get; set; }

    public string? ApproveOutcome { get; set; }

    /// <summary>The machine saw Authorized (or a capture state) and dispensed according to its action.</summary>
    public bool SawAuthorization { get; set; }

    public string? LastMachineState { get; set; }

    /// <summary>A vend report the backend accepted (200): only then may money be captured (capture-on-delivery).</summary>
    public bool VendAccepted { get; set; }

    /// <summary>What left the machine according to the accepted report (minor units).</summary>
    public long DeliveredAmount { get; set; }

    /// <summary>Goods left the machine but the report was refused (e.g. too late): a loss the product accepts, counted.</summary>
    public string? VendRefusal { get; set; }

    /// <summary>The backend's code for the refusal (e.g. <c>vend_report_too_late</c>).</summary>
    public string? VendRefusalCode { get; set; }

    /// <summary>What the refused report said left the machine (minor units): delivered but not charged.</summary>
    public long RefusedDeliveredAmount { get; set; }

    public string? Note { get; set; }

    /// <summary>From the customer's approval to the machine's long poll answering Authorized (null when not measured).</summary>
    public TimeSpan? ApprovalToMachine { get; set; }

    /// <summary>The instance whose long poll answered Authorized (null with one instance).</summary>
    public string? ApprovalAnsweredBy { get; set; }

    /// <summary>Wall-clock (UTC) moment the customer pressed approve, beside <see cref="ApprovalToMachine"/>: compared with
    /// the simulator's webhook delivery log (same process, same clock) to split the latency into its legs.</summary>
    public DateTimeOffset? ApprovedAt { get; set; }

    /// <summary>Wall-clock (UTC) span of the create call that answered 201 (its retries included), to compare with the
    /// moment the simulator created the payment.</summary>
    public DateTimeOffset? CreateStartedAt { get; set; }

    public DateTimeOffset? CreateAnsweredAt { get; set; }

    /// <summary>Wall-clock (UTC) moment the machine's long poll answered with the authorization.</summary>
    public DateTimeOffset? ApprovalAnsweredAt { get; set; }
}
