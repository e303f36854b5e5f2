using Microsoft.Extensions.Options;
using Vending.Core.Webhooks;
using Vending.Vipps;

namespace Vending.Core.Operator;

/// <summary>A configured merchant as operators see it: never a credential or secret, only whether one is there.
/// <see cref="QrApproval"/>: <c>targetUrl</c> (approved for TEXT/TARGETURL: we render the QR) or <c>image</c>.</summary>
public sealed record MerchantView(
    string MerchantId,
    string MerchantSerialNumber,
    string Brand,
    IReadOnlyList<string> Currencies,
    string QrApproval,
    bool WebhookSecretConfigured,
    bool WebhookSecretStored);

public interface IMerchantCatalog
{
    Task<IReadOnlyList<MerchantView>> ListAsync(CancellationToken cancellationToken);
}

public sealed class MerchantCatalog(IOptions<VippsOptions> vipps, IWebhookRegistrationStore store) : IMerchantCatalog
{
    public async Task<IReadOnlyList<MerchantView>> ListAsync(CancellationToken cancellationToken)
    {
        var stored = (await store.ListAsync(cancellationToken)).Where(r => r.Secret is not null).Select(r => r.MerchantId).ToHashSet(StringComparer.Ordinal);
        return vipps.Value.Merchants
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new MerchantView(
                m.Key,
                m.Value.MerchantSerialNumber,
                m.Value.Brand,
                m.Value.Currencies,
                m.Value.TargetUrlQrApproved ? "targetUrl" : "image",
                !string.IsNullOrEmpty(m.Value.WebhookSecret),
                stored.Contains(m.Key)))
            .ToList();
    }
}
