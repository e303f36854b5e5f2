using Microsoft.Extensions.Configuration;
using VippsSimulator.Hosting;

namespace VippsSimulator.Faults;

/// <summary>The fault that one call suffers: extra latency and at most one of error, hang, or lost response.</summary>
public sealed record FaultDecision(int LatencyMilliseconds, FaultRule? Failure)
{
    public static readonly FaultDecision None = new(0, null);
}

/// <summary>The webhook chaos drawn for one event at enqueue time.</summary>
public sealed record WebhookFaultDecision(bool Drop, bool Duplicate, TimeSpan Delay, bool Reorder, int LostAttempts = 0, bool RetriesKeepFirstDate = false);

/// <summary>
/// Holds the active fault rules and draws from one seeded random source under a lock, so a given seed and call
/// sequence always produces the same faults.
/// </summary>
public sealed class FaultInjector
{
    private readonly object _sync = new();
    private readonly List<FaultRule> _rules = new();
    private readonly List<WebhookFaultRule> _webhookRules = new();
    private Random _random = new(0);

    private readonly TimeProvider _clock;

    public FaultInjector(IConfiguration configuration, SimulatorClock clock)
    {
        _clock = clock;
        var configured = configuration.GetSection("Simulator:Faults").Get<FaultSettings>();
        if (configured is not null) Add(configured);
    }

    public void Add(FaultSettings settings)
    {
        foreach (var rule in settings.Rules) Validate(rule);
        if (settings.Webhooks.Any(rule => rule.LostAttempts < 0)) throw new ArgumentException("Webhook lostAttempts must not be negative.");
        var now = _clock.GetUtcNow();
        foreach (var rule in settings.Rules) rule.ActiveUntil = rule.ForSeconds is { } seconds ? now.AddSeconds(seconds) : null;
        lock (_sync)
        {
            if (settings.Seed is { } seed) _random = new Random(seed);
            _rules.AddRange(settings.Rules);
            _webhookRules.AddRange(settings.Webhooks);
        }
    }

    public void Reset()
    {
        lock (_sync)
        {
            _rules.Clear();
            _webhookRules.Clear();
            _random = new Random(0);
        }
    }

    public FaultSettings Snapshot()
    {
        lock (_sync)
        {
            RemoveEnded(_clock.GetUtcNow());
            return new FaultSettings { Rules = _rules.ToList(), Webhooks = _webhookRules.ToList() };
        }
    }

    /// <summary>Convenience for tests: the next <paramref name="count"/> calls of <paramref name="endpoint"/> for the reference fail with the status.</summary>
    public void FailNext(string endpoint, string? reference, int count, int status = 500, FaultKind kind = FaultKind.Error) =>
        Add(new FaultSettings { Rules = { new FaultRule { Endpoint = endpoint, Reference = reference, Count = count, Status = status, Kind = kind } } });

    public FaultDecision Decide(string endpoint, string? msn, string? reference)
    {
        lock (_sync)
        {
            RemoveEnded(_clock.GetUtcNow());
            var latency = 0;
            FaultRule? failure = null;
            foreach (var rule in _rules.ToList())
            {
                if (!Matches(rule, endpoint, msn, reference)) continue;
                if (rule.Kind != FaultKind.Latency && failure is not null) continue;
                if (rule.Rate < 1 && _random.NextDouble() >= rule.Rate) continue;
                if (rule.Count is { } left)
                {
                    if (left <= 1) _rules.Remove(rule);
                    else rule.Count = left - 1;
                }
                if (rule.Kind == FaultKind.Latency) latency += rule.LatencyMilliseconds;
                else failure = rule;
            }
            return latency == 0 && failure is null ? FaultDecision.None : new FaultDecision(latency, failure);
        }
    }

    public WebhookFaultDecision DecideWebhook(string msn)
    {
        lock (_sync)
        {
            var rule = _webhookRules.FirstOrDefault(r => r.Msn is null || r.Msn == msn);
            if (rule is null) return new WebhookFaultDecision(false, false, TimeSpan.Zero, false);
            var drop = Roll(rule.DropRate);
            var duplicate = Roll(rule.DuplicateRate);
            var delay = Roll(rule.DelayRate) ? TimeSpan.FromMilliseconds(rule.DelayMilliseconds) : TimeSpan.Zero;
            var reorder = Roll(rule.ReorderRate);
            return new WebhookFaultDecision(drop, duplicate, delay, reorder, rule.LostAttempts, rule.RetriesKeepFirstDate);
        }
    }

    // An outage window that has passed is removed, so GET /_sim/faults shows only what still applies.
    private void RemoveEnded(DateTimeOffset now) => _rules.RemoveAll(rule => rule.ActiveUntil is { } until && now >= until);

    private bool Roll(double rate) => rate > 0 && (rate >= 1 || _random.NextDouble() < rate);

    private static readonly string[] EPaymentEndpoints = ["create", "get", "events", "capture", "cancel", "refund", "approve"];

    private static bool Matches(FaultRule rule, string endpoint, string? msn, string? reference) =>
        (rule.Endpoint == "*" || string.Equals(rule.Endpoint, endpoint, StringComparison.OrdinalIgnoreCase)
            || string.Equals(rule.Endpoint, "epayment", StringComparison.OrdinalIgnoreCase) && EPaymentEndpoints.Contains(endpoint))
        && (rule.Msn is null or "*" || rule.Msn == msn)
        && (rule.Reference is null or "*" || rule.Reference == reference);

    private static readonly string[] Endpoints = ["*", "token", "epayment", "create", "get", "events", "capture", "cancel", "refund", "approve", "webhooks"];
    private static readonly int[] FaultStatuses = [500, 429, 423, 401, 403, 502, 503, 504];

    /// <summary>Statuses of a permanent refusal: they need an <see cref="FaultRule.ErrorCode"/>, as Vipps' domain errors carry one.</summary>
    private static readonly int[] RefusalStatuses = [400, 409];

    /// <summary>Vipps' titles for the refusal codes a capture, cancel or refund can meet (the ePayment error code list).</summary>
    public static readonly IReadOnlyDictionary<string, string> RefusalTitles = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["4010"] = "Capture idempotency conflict",
        ["4020"] = "Idempotency error",
        ["6030"] = "Cancel period expired",
        ["6040"] = "Cannot cancel a captured payment",
        ["6050"] = "Cannot cancel a payment that is not reserved",
        ["6070"] = "Cannot capture a cancelled payment",
        ["6100"] = "Capture period expired",
        ["6150"] = "Not enough refundable amount",
        ["6190"] = "Payment cannot be cancelled",
        ["6200"] = "Payment cannot be captured",
        ["6210"] = "Payment cannot be refunded",
        ["6220"] = "Refund period expired",
        ["6260"] = "Funds unavailable",
    };

    private static void Validate(FaultRule rule)
    {
        if (!Endpoints.Contains(rule.Endpoint, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"Unknown fault endpoint '{rule.Endpoint}'; use one of {string.Join(", ", Endpoints)}.");
        var refusal = rule.Kind == FaultKind.Error && RefusalStatuses.Contains(rule.Status);
        if (rule.Kind is FaultKind.Error or FaultKind.ResponseLost && !refusal && !FaultStatuses.Contains(rule.Status))
            throw new ArgumentException($"Fault status {rule.Status} is not one of {string.Join(", ", FaultStatuses)}, "
                + "nor 400 or 409 (a refusal, with an errorCode, kind Error).");
        if (refusal && (rule.ErrorCode is not { Length: 4 } code || !code.All(char.IsAsciiDigit)))
            throw new ArgumentException("A 400 or 409 fault is a refusal: give Vipps' four-digit errorCode, e.g. 6200.");
        if (!refusal && rule.ErrorCode is not null)
            throw new ArgumentException("errorCode applies only to a 400 or 409 fault of kind Error.");
        if (rule.ForSeconds is <= 0) throw new ArgumentException("Fault forSeconds must be positive when given.");
        if (rule.RetryAfterSeconds < 0) throw new ArgumentException("Fault retryAfterSeconds must not be negative.");
        if (rule.Rate is < 0 or > 1) throw new ArgumentException("Fault rate must be between 0 and 1.");
        if (rule.Count is <= 0) throw new ArgumentException("Fault count must be positive when given.");
    }
}
