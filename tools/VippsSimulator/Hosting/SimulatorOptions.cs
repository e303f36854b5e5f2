namespace VippsSimulator.Hosting;

/// <summary>Bound from the configuration section <c>Simulator</c>; every knob is documented in docs/simulator.md.</summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>Base of the links the simulator hands out (QR images, customer pages). Null: taken from each request's scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Lifetime of access tokens: 1 hour as in the Vipps test environment.</summary>
    public int TokenLifetimeSeconds { get; set; } = 3600;

    /// <summary>How long a payment may stay CREATED before it becomes EXPIRED (Vipps: 10 minutes).</summary>
    public int PaymentExpirySeconds { get; set; } = 600;

    /// <summary>How often the background sweep looks for payments past their expiry (real time; the expiry itself follows the simulator clock).</summary>
    public int ExpirySweepIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Honour the documented test trigger amounts (151, 182, ... on approval; 123, 124 on refund).</summary>
    public bool TriggerAmounts { get; set; } = true;

    /// <summary>Lets webhooks be registered with http:// URLs on 127.0.0.1 or localhost (local runs and tests); Vipps accepts https only.</summary>
    public bool AllowHttpLoopbackWebhooks { get; set; }

    public RateLimitOptions RateLimits { get; set; } = new();

    public WebhookDeliveryOptions Webhooks { get; set; } = new();

    public Dictionary<string, MerchantOptions> Merchants { get; set; } = new();
}

public sealed class RateLimitOptions
{
    /// <summary>Create, capture, cancel and refund calls per minute per reference and MSN, counted per operation (Vipps: 5).</summary>
    public int AdjustmentsPerMinute { get; set; } = 5;

    /// <summary>GET payment and GET events per minute per reference and subscription key (Vipps: 120).</summary>
    public int QueriesPerMinute { get; set; } = 120;
}

public sealed class WebhookDeliveryOptions
{
    /// <summary>An attempt without an answer within this time counts as failed (Vipps: 10 s).</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Comma-separated waits in seconds: the wait before retry n is element n (1-based), the last one repeats.
    /// A string, not an array, because configuration merges arrays index by index and an override would keep stale tail entries.
    /// Compress it for tests, e.g. "0.05".
    /// </summary>
    public string RetryDelaysSeconds { get; set; } = "2,2,2,2,60,120,3600";

    public TimeSpan RetryDelay(int failedAttempts)
    {
        var delays = RetryDelaysSeconds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => double.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (delays.Length == 0) return TimeSpan.Zero;
        return TimeSpan.FromSeconds(delays[Math.Min(failedAttempts, delays.Length) - 1]);
    }

    /// <summary>After this many failed attempts the event is given up (marked abandoned) and the payment's later events move on.</summary>
    public int MaxAttempts { get; set; } = 30;

    /// <summary>Vipps: at most 25 registrations per event type per MSN.</summary>
    public int MaxRegistrationsPerEvent { get; set; } = 25;
}

/// <summary>One test merchant (sales unit). Property names match the product's <c>Vipps:Merchants:{id}</c> blocks.</summary>
public sealed class MerchantOptions
{
    public string MerchantSerialNumber { get; set; } = "";
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    public string SubscriptionKey { get; set; } = "";
    public List<string> Currencies { get; set; } = new();
    public string Brand { get; set; } = "Vipps";
    public bool TargetUrlQrApproved { get; set; }

    /// <summary>Long-living payments (<c>expiresAt</c>) need approval from Vipps MobilePay (5050 otherwise).</summary>
    public bool LongLivingPaymentsApproved { get; set; }
}
