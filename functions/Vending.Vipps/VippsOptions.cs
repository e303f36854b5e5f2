using System.ComponentModel.DataAnnotations;

namespace Vending.Vipps;

/// <summary>Bound from the configuration section <c>Vipps</c> and validated at start-up.</summary>
public sealed class VippsOptions
{
    public const string SectionName = "Vipps";

    /// <summary>https://api.vipps.no, https://apitest.vipps.no, or the local simulator.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = null!;

    /// <summary>Timeout of one attempt; the whole call, retries included, is bounded by <see cref="TotalTimeoutSeconds"/>.</summary>
    [Range(1, 60)]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    [Range(1, 300)]
    public int TotalTimeoutSeconds { get; set; } = 30;

    [Required, MaxLength(30)]
    public string SystemName { get; set; } = "vending-functions";

    [Required, MaxLength(30)]
    public string SystemVersion { get; set; } = "1.0.0";

    /// <summary>Sent as <c>Vipps-System-Plugin-Name</c>: names this client library in Vipps' logs.</summary>
    [Required, MaxLength(30)]
    public string PluginName { get; set; } = "vending-vipps-client";

    [Required, MaxLength(30)]
    public string PluginVersion { get; set; } = "1.0.0";

    /// <summary>Retries of a transient failure (5xx, 423, 429, timeout, connection error) after the first attempt.</summary>
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Base of the exponential backoff (with jitter); a <c>Retry-After</c> header wins when Vipps sends one.</summary>
    [Range(0, 10_000)]
    public int RetryBaseDelayMilliseconds { get; set; } = 500;

    /// <summary>
    /// A failed access-token refresh is not tried again before 1 s, then 2 s, 4 s, ... up to this many seconds (per
    /// merchant); meanwhile callers use the cached token while it is still valid, or fail at once without calling Vipps.
    /// </summary>
    [Range(1, 600)]
    public int TokenRefreshBackoffMaxSeconds { get; set; } = 60;

    /// <summary>
    /// How long Vipps keeps a one-time payment open for approval: Vipps documents 10 minutes (5 to open, 5 to approve).
    /// A sale's <c>expiresAt</c> is this long after Vipps accepted its payment, and a payment Vipps still shows CREATED
    /// past it (plus <c>Vending:ExpiryGraceSeconds</c>) is terminated so the customer can no longer pay. Change it only
    /// to follow Vipps, or a simulator configured with another expiry (the local stack's stories run in seconds).
    /// </summary>
    [Range(10, 3600)]
    public int PaymentExpirySeconds { get; set; } = 600;

    /// <summary>Keyed by our merchant id (a short name such as <c>vippsno</c>), used everywhere else to name the merchant.</summary>
    [MinLength(1)]
    public Dictionary<string, VippsMerchantOptions> Merchants { get; set; } = new();
}

public sealed class VippsMerchantOptions
{
    [Required, RegularExpression("^[0-9]{4,10}$")]
    public string MerchantSerialNumber { get; set; } = "";

    [Required]
    public string ClientId { get; set; } = "";

    /// <summary>Secret: from Key Vault in Azure. Never logged.</summary>
    [Required]
    public string ClientSecret { get; set; } = "";

    /// <summary>Secret: from Key Vault in Azure. Never logged.</summary>
    [Required]
    public string SubscriptionKey { get; set; } = "";

    /// <summary>ISO currencies this merchant sells in: NOK for Vipps in Norway, DKK or EUR for MobilePay.</summary>
    [MinLength(1)]
    public List<string> Currencies { get; set; } = new();

    /// <summary>"Vipps" or "MobilePay": shown to machines and operators.</summary>
    public string Brand { get; set; } = "Vipps";

    /// <summary>Approved by Vipps MobilePay for qrFormat TEXT/TARGETURL: we render the QR ourselves.</summary>
    public bool TargetUrlQrApproved { get; set; }

    /// <summary>The secret of this merchant's webhook registration for our URL. Secret; Key Vault in Azure.</summary>
    public string? WebhookSecret { get; set; }
}
