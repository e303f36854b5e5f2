using System.ComponentModel.DataAnnotations;

namespace Vending.Core;

/// <summary>Bound from the configuration section <c>Vending</c> (docs/ARCHITECTURE.md) and validated at start: the one
/// class for that section, so every key of it is documented and validated here. (<c>Vending:Operator</c> is its own
/// section, <see cref="Operator.Access.OperatorAccessOptions"/>.)</summary>
public sealed class VendingOptions : IValidatableObject
{
    public const string SectionName = "Vending";

    /// <summary>The path Vipps posts webhooks to, below <see cref="PublicBaseUrl"/>.</summary>
    public const string WebhookPath = "/api/webhooks/vipps";

    /// <summary>Our public base URL. The webhook signature covers the registered URL's path and host, so this must be
    /// exactly what the webhook registration used.</summary>
    [Required]
    public Uri PublicBaseUrl { get; set; } = null!;

    /// <summary>The URL the webhook registrations point at (and that the signature covers). Null only while
    /// <see cref="PublicBaseUrl"/> is missing or relative: the options validator reads every property before it reports
    /// that, so this must not throw.</summary>
    public Uri WebhookUrl => PublicBaseUrl is { IsAbsoluteUri: true } baseUrl
        ? new(baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + WebhookPath)
        : null!;

    /// <summary>Optional: the vault (https URI) where webhook registration keeps the secrets; unset, the table does.
    /// Read when the services are registered (it decides which store is registered).</summary>
    public string? KeyVaultUri { get; set; }

    /// <summary>Authorized with no vend report for this long: the reconciler releases the reservation.</summary>
    [Range(10, 86400)]
    public int VendReportDeadlineSeconds { get; set; } = 120;

    /// <summary>Accepted distance between <c>x-ms-date</c> and our clock: bounds replay of a captured webhook.</summary>
    [Range(1, 3600)]
    public int WebhookClockSkewSeconds { get; set; } = 300;

    /// <summary>Request bodies above this are refused before any parsing.</summary>
    [Range(1024, 1_048_576)]
    public int MaxRequestBodyBytes { get; set; } = 16_384;

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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl is { IsAbsoluteUri: false } || PublicBaseUrl is { Scheme: not ("http" or "https") })
        {
            yield return new ValidationResult("Vending:PublicBaseUrl must be an absolute http(s) URL.", [nameof(PublicBaseUrl)]);
        }

        if (SeedMachines.Any(seed => !seed.ApiKey.StartsWith(seed.MachineId + ".", StringComparison.Ordinal)))
        {
            yield return new ValidationResult("Vending:SeedMachines: each ApiKey must be \"{MachineId}.{secret}\".", [nameof(SeedMachines)]);
        }
    }
}

/// <summary>A machine written at first use, with a known key (local runs and demos only; never in production settings).</summary>
public sealed class SeedMachineOptions
{
    [Required, RegularExpression(InputLimits.MachineIdPattern)]
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
