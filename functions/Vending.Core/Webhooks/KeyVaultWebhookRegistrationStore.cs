using Azure;
using Azure.Security.KeyVault.Secrets;

namespace Vending.Core.Webhooks;

/// <summary>
/// With <c>Vending:KeyVaultUri</c> set: registration secrets go to Key Vault as <c>vipps-{merchantId}-webhook-secret</c>
/// (the secret the app setting <c>Vipps__Merchants__{id}__WebhookSecret</c> references, see infra), the table keeps only
/// the registration id, URL and a flag. Writing needs the "Key Vault Secrets Officer" role for whoever runs
/// <c>ensure</c>; reading, "Key Vault Secrets User" (what the Function App has).
/// </summary>
public sealed class KeyVaultWebhookRegistrationStore(IWebhookRegistrationStore table, SecretClient vault) : IWebhookRegistrationStore
{
    public static string SecretName(string merchantId) => $"vipps-{merchantId}-webhook-secret";

    public async Task<IReadOnlyList<StoredWebhookRegistration>> ListAsync(CancellationToken cancellationToken)
    {
        var rows = await table.ListAsync(cancellationToken);
        var registrations = new List<StoredWebhookRegistration>(rows.Count);
        foreach (var row in rows)
        {
            registrations.Add(row.SecretInKeyVault ? row with { Secret = await ReadAsync(row.MerchantId, cancellationToken) } : row);
        }

        return registrations;
    }

    public async Task SaveAsync(StoredWebhookRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (registration.Secret is null)
        {
            await table.SaveAsync(registration with { SecretInKeyVault = false }, cancellationToken);
            return;
        }

        // The vault first: a row pointing at a secret that was never written would read as a lost secret.
        await vault.SetSecretAsync(new KeyVaultSecret(SecretName(registration.MerchantId), registration.Secret)
        {
            Properties = { ContentType = "text/plain", Tags = { ["registrationId"] = registration.RegistrationId.ToString() } },
        }, cancellationToken);
        await table.SaveAsync(registration with { Secret = null, SecretInKeyVault = true }, cancellationToken);
    }

    public Task RetireConfiguredSecretAsync(string merchantId, string secretHash, CancellationToken cancellationToken) =>
        table.RetireConfiguredSecretAsync(merchantId, secretHash, cancellationToken);

    public Task<bool> IsRetiredAsync(string merchantId, string secretHash, CancellationToken cancellationToken) =>
        table.IsRetiredAsync(merchantId, secretHash, cancellationToken);

    /// <summary>A missing (deleted) secret is a lost secret: the registrar replaces the registration.</summary>
    private async Task<string?> ReadAsync(string merchantId, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await vault.GetSecretAsync(SecretName(merchantId), cancellationToken: cancellationToken);
            return string.IsNullOrEmpty(secret.Value.Value) ? null : secret.Value.Value;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
    }
}
