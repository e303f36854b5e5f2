using System.ComponentModel.DataAnnotations;
using Vending.Core.Machines;

namespace Vending.Core;

/// <summary>Bound from the configuration section <c>Vending</c> (docs/ARCHITECTURE.md) and validated at start.</summary>
public sealed class VendingOptions
{
    public const string SectionName = "Vending";

    /// <summary>Our public base URL; the webhook URL is {PublicBaseUrl}/api/webhooks/vipps.</summary>
    [Required]
    public Uri PublicBaseUrl { get; set; } = null!;

    /// <summary>Authorized with no vend report for this long: the reconciler releases the reservation.</summary>
    [Range(10, 86400)]
    public int VendReportDeadlineSeconds { get; set; } = 120;

    [Range(1, 3600)]
    public int WebhookClockSkewSeconds { get; set; } = 300;

    [Range(1024, 1048576)]
    public int MaxRequestBodyBytes { get; set; } = 16384;

    /// <summary>After a key rotation the previous key keeps working this long.</summary>
    [Range(0, 2592000)]
    public int SecretRotationGraceSeconds { get; set; } = 86400;

    /// <summary>A Created sale past its expiry by this much, still CREATED at Vipps, is treated as expired.</summary>
    [Range(0, 3600)]
    public int ExpiryGraceSeconds { get; set; } = 60;

    /// <summary>A command this long past its next attempt (or, without a backoff, since it was enqueued) is sent
    /// again (same operation, same idempotency key, a new message chain).</summary>
    [Range(10, 86400)]
    public int CommandStaleSeconds { get; set; } = 120;

    /// <summary>A command that keeps failing transiently (5xx, 423, 429, no answer) or with refused credentials
    /// (401/403) is retried this long: a capture from the authorization (as long as Vipps lets the reservation be
    /// captured: 14 days in Denmark and Finland, 180 in Norway; the shorter is the default), a release, terminate or
    /// refund from when it was issued. Then Vipps is asked what happened, and only then is it a failure.</summary>
    [Range(10, 15552000)]
    public int CommandRetryWindowSeconds { get; set; } = 14 * 24 * 3600;

    /// <summary>First backoff of a failing command; it doubles per attempt up to 5 minutes.</summary>
    [Range(10, 60000)]
    public int CommandRetryBaseMilliseconds { get; set; } = 5000;

    /// <summary>How many open sales one reconciler pass examines at most.</summary>
    [Range(1, 10000)]
    public int ReconcileBatchSize { get; set; } = 500;

    /// <summary>How many open sales one reconciler pass works on at once (each waits mostly on storage and Vipps).</summary>
    [Range(1, 64)]
    public int ReconcileParallelism { get; set; } = 8;

    public List<SeedMachineOptions> SeedMachines { get; set; } = [];
}

/// <summary>A machine written at first use, with a known key (local runs and demos only; never in production settings).</summary>
public sealed class SeedMachineOptions
{
    [Required, RegularExpression(MachineDirectory.MachineIdPattern)]
    public string MachineId { get; set; } = "";

    /// <summary>"{MachineId}.{secret}".</summary>
    [Required]
    public string ApiKey { get; set; } = "";

    [Required]
    public string MerchantId { get; set; } = "";

    [Required]
    public string Currency { get; set; } = "";

    public CaptureMode CaptureMode { get; set; } = CaptureMode.OnDelivery;

    public string QrFormat { get; set; } = "svg";

    public string Name { get; set; } = "";

    public string Location { get; set; } = "";
}
