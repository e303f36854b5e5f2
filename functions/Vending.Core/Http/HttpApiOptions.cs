using System.ComponentModel.DataAnnotations;

namespace Vending.Core.Http;

/// <summary>The settings of the HTTP layer, bound from the section <c>Vending</c> (other parts read other keys of it).</summary>
public sealed class HttpApiOptions : IValidatableObject
{
    public const string SectionName = "Vending";

    /// <summary>The path Vipps posts webhooks to, below <see cref="PublicBaseUrl"/>.</summary>
    public const string WebhookPath = "/api/webhooks/vipps";

    /// <summary>Our public base URL. The webhook signature covers the registered URL's path and host, so this must be
    /// exactly what the webhook registration used.</summary>
    [Required]
    public Uri PublicBaseUrl { get; set; } = null!;

    /// <summary>Accepted distance between <c>x-ms-date</c> and our clock: bounds replay of a captured webhook.</summary>
    [Range(1, 3600)]
    public int WebhookClockSkewSeconds { get; set; } = 300;

    /// <summary>Request bodies above this are refused before any parsing.</summary>
    [Range(256, 1_048_576)]
    public int MaxRequestBodyBytes { get; set; } = 16_384;

    /// <summary>The URL the webhook registrations point at (and that the signature covers).</summary>
    public Uri WebhookUrl => new(PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + WebhookPath);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl is { IsAbsoluteUri: false } || PublicBaseUrl is { Scheme: not ("http" or "https") })
        {
            yield return new ValidationResult("Vending:PublicBaseUrl must be an absolute http(s) URL.", [nameof(PublicBaseUrl)]);
        }
    }
}
