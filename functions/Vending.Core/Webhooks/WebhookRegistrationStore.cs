using System.Security.Cryptography;
using System.Text;

namespace Vending.Core.Webhooks;

/// <summary>Our registration at Vipps for one merchant. Either we made it and hold its <see cref="Secret"/> (shown once,
/// at registration), or it was registered by hand with its secret in configuration, which we adopted:
/// <see cref="ConfiguredSecretHash"/> binds that configured secret to this registration id.</summary>
public sealed record StoredWebhookRegistration(string MerchantId, Guid RegistrationId, string Url, string? Secret, string? ConfiguredSecretHash, DateTimeOffset RegisteredAt)
{
    /// <summary>The secret lives in Key Vault (<see cref="KeyVaultWebhookRegistrationStore"/>), not in the table row.</summary>
    public bool SecretInKeyVault { get; init; }
}

/// <summary>Where registration secrets are kept when they are not in configuration.</summary>
public interface IWebhookRegistrationStore
{
    Task<IReadOnlyList<StoredWebhookRegistration>> ListAsync(CancellationToken cancellationToken);

    Task SaveAsync(StoredWebhookRegistration registration, CancellationToken cancellationToken);

    /// <summary>Remembers that a configured secret belongs to a registration we deleted, so it is never adopted again.</summary>
    Task RetireConfiguredSecretAsync(string merchantId, string secretHash, CancellationToken cancellationToken);

    Task<bool> IsRetiredAsync(string merchantId, string secretHash, CancellationToken cancellationToken);
}

public static class WebhookSecretHash
{
    /// <summary>SHA-256 (hex) of a secret: lets us recognise a configured secret without storing it.</summary>
    public static string Of(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}

/// <summary>The registrations' own rows (the <c>WebhookRegistrations</c> table, implemented in storage). What callers
/// use is <see cref="IWebhookRegistrationStore"/>: these rows themselves, or Key Vault holding the secrets over them
/// (<see cref="KeyVaultWebhookRegistrationStore"/>); a type of its own so the two are registered once each.</summary>
public interface IWebhookRegistrationRows : IWebhookRegistrationStore;
