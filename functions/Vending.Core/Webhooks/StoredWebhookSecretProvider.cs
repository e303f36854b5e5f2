using Microsoft.Extensions.Options;
using Vending.Vipps;

namespace Vending.Core.Webhooks;

/// <summary>
/// The secrets webhooks are verified against: each merchant's configured <c>WebhookSecret</c> first (Key Vault references
/// in Azure), then the secret of the registration <c>operator/webhooks/ensure</c> made and stored. Both count during a
/// change-over, so a webhook signed with either verifies. Stored secrets are cached briefly per process; a registration
/// made here refreshes the cache at once.
/// </summary>
public sealed class StoredWebhookSecretProvider(IOptionsMonitor<VippsOptions> vipps, IWebhookRegistrationStore store, TimeProvider time) : IWebhookSecretProvider
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, IReadOnlyList<StoredWebhookRegistration> Registrations)? _cache;

    public async ValueTask<IReadOnlyList<WebhookSecret>> GetSecretsAsync(CancellationToken cancellationToken)
    {
        var merchants = vipps.CurrentValue.Merchants;
        var secrets = merchants
            .Where(merchant => !string.IsNullOrEmpty(merchant.Value.WebhookSecret))
            .Select(merchant => new WebhookSecret(merchant.Key, merchant.Value.MerchantSerialNumber, merchant.Value.WebhookSecret!))
            .ToList();

        foreach (var stored in (await StoredAsync(cancellationToken)).Where(r => r.Secret is not null))
        {
            // Only merchants we still configure; a secret already configured is not tried twice.
            if (merchants.TryGetValue(stored.MerchantId, out var merchant)
                && !secrets.Any(s => s.MerchantId == stored.MerchantId && s.Secret == stored.Secret))
            {
                secrets.Add(new WebhookSecret(stored.MerchantId, merchant.MerchantSerialNumber, stored.Secret!));
            }
        }

        return secrets;
    }

    /// <summary>Forgets the cached registrations (called after a registration changed).</summary>
    public void Invalidate() => _cache = null;

    private async Task<IReadOnlyList<StoredWebhookRegistration>> StoredAsync(CancellationToken cancellationToken)
    {
        if (_cache is { } cached && time.GetUtcNow() - cached.At < CacheFor)
        {
            return cached.Registrations;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cache is { } again && time.GetUtcNow() - again.At < CacheFor)
            {
                return again.Registrations;
            }

            var registrations = await store.ListAsync(cancellationToken);
            _cache = (time.GetUtcNow(), registrations);
            return registrations;
        }
        finally
        {
            _gate.Release();
        }
    }
}
