using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Vipps;
using Vending.Vipps.Webhooks;

namespace Vending.Core.Webhooks;

/// <summary>What <see cref="IWebhookRegistrar.EnsureAsync"/> did for one merchant. <see cref="Action"/>: <c>kept</c>
/// (a registration with a secret we hold was there) or <c>registered</c> (a new one; its secret stored).
/// <see cref="SecretSource"/>: <c>configuration</c> or <c>store</c>. Never the secret itself.</summary>
public sealed record WebhookEnsureResult(string MerchantId, string MerchantSerialNumber, string Url, Guid RegistrationId, string Action, string SecretSource, IReadOnlyList<Guid> Deleted);

public sealed record WebhookEnsureReport(string Url, IReadOnlyList<string> Events, IReadOnlyList<WebhookEnsureResult> Merchants);

public interface IWebhookRegistrar
{
    /// <summary>Exactly one registration per configured merchant for our URL and every payment event type, whose
    /// secret we hold. Idempotent: a second run keeps what the first made and deletes nothing.</summary>
    Task<WebhookEnsureReport> EnsureAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Per merchant: lists the registrations; keeps the one whose secret we hold (the stored registration, or the one we
/// adopted with the configured secret, recognised by id and the secret's hash); when there is none and nothing is
/// stored, adopts the only complete registration at our URL if a secret is configured (and not retired); otherwise
/// registers a new one and stores its secret before anything is deleted (webhooks keep verifying), retiring the
/// configured secret. Then deletes every other registration at our URL: duplicates, incomplete ones, strays and ones
/// whose secret we lost. Registrations at other URLs are not ours and stay. docs/operator.md has the whole story.
/// </summary>
public sealed class WebhookRegistrar(
    IVippsWebhooksClient webhooks,
    IWebhookRegistrationStore store,
    IOptions<VippsOptions> vipps,
    IOptions<VendingOptions> http,
    TimeProvider time,
    ILogger<WebhookRegistrar> logger,
    StoredWebhookSecretProvider? secretCache = null) : IWebhookRegistrar
{
    public async Task<WebhookEnsureReport> EnsureAsync(CancellationToken cancellationToken)
    {
        var url = http.Value.WebhookUrl.ToString();
        var wanted = WebhookEventTypes.All;
        var stored = (await store.ListAsync(cancellationToken)).ToDictionary(r => r.MerchantId, StringComparer.Ordinal);
        var results = new List<WebhookEnsureResult>();
        try
        {
            foreach (var (merchantId, merchant) in vipps.Value.Merchants.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                results.Add(await EnsureMerchantAsync(merchantId, merchant, url, wanted, stored.GetValueOrDefault(merchantId), cancellationToken));
            }
        }
        finally
        {
            secretCache?.Invalidate();
        }

        return new WebhookEnsureReport(url, wanted, results);
    }

    private async Task<WebhookEnsureResult> EnsureMerchantAsync(
        string merchantId, VippsMerchantOptions merchant, string url, IReadOnlyList<string> wanted, StoredWebhookRegistration? stored, CancellationToken cancellationToken)
    {
        var ours = (await webhooks.ListAsync(merchantId, cancellationToken))
            .Where(w => string.Equals(w.Url, url, StringComparison.Ordinal))
            .ToList();
        var complete = ours.Where(w => w.Events.ToHashSet(StringComparer.Ordinal).SetEquals(wanted)).ToList();

        var configured = string.IsNullOrEmpty(merchant.WebhookSecret) ? null : WebhookSecretHash.Of(merchant.WebhookSecret);
        WebhookInfo? keep = null;
        var source = "store";
        if (stored is not null && stored.Url == url && complete.FirstOrDefault(w => w.Id == stored.RegistrationId) is { } known)
        {
            // Ours, if we still hold its secret: the one we stored, or the configured one it was adopted with.
            if (stored.Secret is not null)
            {
                keep = known;
            }
            else if (configured is not null && configured == stored.ConfiguredSecretHash)
            {
                keep = known;
                source = "configuration";
            }
        }

        if (keep is null && stored is null && configured is not null && ours.Count == 1 && complete.Count == 1
            && !await store.IsRetiredAsync(merchantId, configured, cancellationToken))
        {
            // Registered by hand (or by DevStack) with its secret put into configuration: the only candidate, adopted
            // and bound to the secret's hash. A wrong secret shows as 401s; clear the setting and ensure again.
            keep = complete[0];
            source = "configuration";
            await store.SaveAsync(new StoredWebhookRegistration(merchantId, keep.Id, url, null, configured, time.GetUtcNow()), cancellationToken);
            logger.LogInformation("Webhook {RegistrationId} of merchant {MerchantId} adopted with the configured secret", keep.Id, merchantId);
        }

        var action = "kept";
        Guid keptId;
        if (keep is null)
        {
            var registration = await webhooks.RegisterAsync(merchantId, url, wanted, cancellationToken);
            await store.SaveAsync(new StoredWebhookRegistration(merchantId, registration.Id, url, registration.Secret, null, time.GetUtcNow()), cancellationToken);
            if (configured is not null)
            {
                // The configured secret belonged to a registration we are replacing (or to none): never adopt with it again.
                await store.RetireConfiguredSecretAsync(merchantId, configured, cancellationToken);
            }

            secretCache?.Invalidate();
            keptId = registration.Id;
            action = "registered";
            source = "store";
            logger.LogInformation("Webhook registered for merchant {MerchantId}: {RegistrationId} at {Url}", merchantId, registration.Id, url);
        }
        else
        {
            keptId = keep.Id;
        }

        var deleted = new List<Guid>();
        foreach (var other in ours.Where(w => w.Id != keptId))
        {
            await webhooks.DeleteAsync(merchantId, other.Id, cancellationToken);
            deleted.Add(other.Id);
            logger.LogInformation("Webhook {RegistrationId} of merchant {MerchantId} deleted: duplicate, incomplete or its secret is unknown", other.Id, merchantId);
        }

        return new WebhookEnsureResult(merchantId, merchant.MerchantSerialNumber, url, keptId, action, source, deleted);
    }
}
