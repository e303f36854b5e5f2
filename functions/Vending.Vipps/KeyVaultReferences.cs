namespace Vending.Vipps;

/// <summary>
/// App Service replaces a setting <c>@Microsoft.KeyVault(SecretUri=...)</c> by the secret's value; when it cannot
/// (the identity's role not effective yet, the secret not created yet, the vault unreachable) the app sees the literal
/// text and the platform retries only about once a day. Such a value is never a credential: the validation names it,
/// and an unresolved webhook secret counts as no secret at all (the registrar's store is used instead).
/// </summary>
public static class KeyVaultReferences
{
    public const string Prefix = "@Microsoft.KeyVault(";

    public static bool IsUnresolved(string? value) =>
        value is not null && value.TrimStart().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Post-configuration of <see cref="VippsOptions"/>: a webhook secret whose reference did not resolve is absent.</summary>
    public static void ClearUnresolvedWebhookSecrets(VippsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var merchant in options.Merchants.Values)
        {
            if (merchant is not null && IsUnresolved(merchant.WebhookSecret))
            {
                merchant.WebhookSecret = null;
            }
        }
    }
}
