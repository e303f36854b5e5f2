using Microsoft.Extensions.Options;
using Vending.Vipps;

namespace Vending.Core.Webhooks;

/// <summary>One secret that may have signed a webhook: the merchant's registration secret for our URL.</summary>
public sealed record WebhookSecret(string MerchantId, string MerchantSerialNumber, string Secret);

/// <summary>
/// The secrets webhooks are verified against. The default reads <see cref="VippsOptions"/> (Key Vault references in
/// Azure); an operator feature that registers webhooks can supply stored secrets instead, and during a rotation a
/// merchant may have two.
/// </summary>
public interface IWebhookSecretProvider
{
    ValueTask<IReadOnlyList<WebhookSecret>> GetSecretsAsync(CancellationToken cancellationToken);
}

public sealed class VippsOptionsWebhookSecretProvider(IOptionsMonitor<VippsOptions> options) : IWebhookSecretProvider
{
    public ValueTask<IReadOnlyList<WebhookSecret>> GetSecretsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<WebhookSecret> secrets = options.CurrentValue.Merchants
            .Where(merchant => !string.IsNullOrEmpty(merchant.Value.WebhookSecret))
            .Select(merchant => new WebhookSecret(merchant.Key, merchant.Value.MerchantSerialNumber, merchant.Value.WebhookSecret!))
            .ToList();
        return ValueTask.FromResult(secrets);
    }
}
