using System.Text.Json.Serialization;

namespace VippsSimulator.Faults;

/// <summary>What a matching call suffers.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultKind>))]
public enum FaultKind
{
    /// <summary>Answer <see cref="FaultRule.Status"/> without doing anything: a transient status (500, 429, 423, 401, 403,
    /// 502, 503 or 504), or a permanent refusal (400 or 409 with <see cref="FaultRule.ErrorCode"/>).</summary>
    Error,
    /// <summary>Wait <see cref="FaultRule.LatencyMilliseconds"/> and then answer normally.</summary>
    Latency,
    /// <summary>Never answer until the client gives up (or <see cref="FaultRule.HangSeconds"/> pass, then 500): nothing is done.</summary>
    Hang,
    /// <summary>Do the operation, then answer <see cref="FaultRule.Status"/> as if the response was lost: tests idempotent retries.</summary>
    ResponseLost,
}

/// <summary>
/// One fault: which calls it matches (endpoint, MSN, reference; null or "*" matches all), how often it fires
/// (<see cref="Rate"/> drawn from the seeded random source) and how many times at most (<see cref="Count"/>: a one-shot
/// rule such as "the next 2 captures of X answer 500" has Rate 1 and Count 2).
/// </summary>
public sealed class FaultRule
{
    /// <summary>
    /// token, create, get, events, capture, cancel, refund, approve, webhooks (the register/list/delete API), epayment
    /// (every ePayment route: create, get, events, capture, cancel, refund, approve), or * for all.
    /// </summary>
    public string Endpoint { get; set; } = "*";
    public string? Msn { get; set; }
    public string? Reference { get; set; }
    public FaultKind Kind { get; set; } = FaultKind.Error;
    public int Status { get; set; } = 500;

    /// <summary>
    /// Vipps' error code for a permanent refusal (Status 400 or 409, Kind Error only, required there): the answer is the
    /// problem body Vipps sends for a domain refusal, e.g. 6200 "cannot be captured" on capture or 6190 "cannot be
    /// cancelled" on cancel, which a client must not retry under the same key.
    /// </summary>
    public string? ErrorCode { get; set; }

    /// <summary>The problem's title for <see cref="ErrorCode"/>; default: Vipps' wording for the known refusal codes.</summary>
    public string? Title { get; set; }
    public double Rate { get; set; } = 1;
    public int? Count { get; set; }
    public int LatencyMilliseconds { get; set; }
    public int HangSeconds { get; set; } = 300;

    /// <summary>Seconds in the <c>Retry-After</c> header of an injected 429 (Vipps' gateway sends one; default 1).</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// An outage window: the rule matches only for this many seconds (simulator clock) after it was added, then it is
    /// removed. Null: until <see cref="Count"/> runs out or the faults are reset.
    /// </summary>
    public int? ForSeconds { get; set; }

    /// <summary>When a <see cref="ForSeconds"/> rule stops matching; set by the simulator when the rule is added.</summary>
    public DateTimeOffset? ActiveUntil { get; set; }
}

/// <summary>
/// Webhook delivery chaos for one MSN (or all when <see cref="Msn"/> is null). Order per payment per registration is kept
/// by everything except <see cref="ReorderRate"/>, which is an explicit knob to break it on purpose.
/// </summary>
public sealed class WebhookFaultRule
{
    public string? Msn { get; set; }
    /// <summary>Deliver the event a second time after it was acknowledged (at-least-once).</summary>
    public double DuplicateRate { get; set; }
    /// <summary>Never deliver the event; the delivery log marks it dropped. Later events of the payment are not held back by it.</summary>
    public double DropRate { get; set; }
    /// <summary>Hold the event back <see cref="DelayMilliseconds"/> before its first attempt (later events of the same payment wait behind it; other payments overtake it).</summary>
    public double DelayRate { get; set; }
    public int DelayMilliseconds { get; set; }
    /// <summary>Swap the event with the next queued event of the same payment: violates Vipps' per-payment ordering deliberately.</summary>
    public double ReorderRate { get; set; }

    /// <summary>
    /// The first this many attempts of every event are lost on the way (never reach the receiver; logged as failed
    /// attempts), so the receiver first sees a retry.
    /// </summary>
    public int LostAttempts { get; set; }

    /// <summary>
    /// Retries carry the first attempt's <c>x-ms-date</c> (and its signature) instead of a fresh one: a retry that
    /// comes later than the receiver's skew window then arrives with a stale but correctly signed date.
    /// </summary>
    public bool RetriesKeepFirstDate { get; set; }
}

/// <summary>The body of <c>POST /_sim/faults</c> and the configuration section <c>Simulator:Faults</c>.</summary>
public sealed class FaultSettings
{
    /// <summary>Seed of the random source behind every rate; setting it restarts the sequence.</summary>
    public int? Seed { get; set; }
    public List<FaultRule> Rules { get; set; } = new();
    public List<WebhookFaultRule> Webhooks { get; set; } = new();
}
