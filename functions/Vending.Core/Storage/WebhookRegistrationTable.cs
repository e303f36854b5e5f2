using Azure.Data.Tables;
using Vending.Core.Webhooks;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>WebhookRegistrations</c> table (declared in Bicep): PartitionKey <c>merchant</c>, RowKey = merchant id (the
/// registration, with the secret when we made it); PartitionKey <c>retired</c>, RowKey <c>{merchantId}-{sha256}</c>
/// (configured secrets of registrations we replaced). Readable only by the Function App's identity; in Azure,
/// Key Vault is the better home for the secret (docs/operator.md).
/// </summary>
public sealed class TableWebhookRegistrationStore(VendingTables tables) : IWebhookRegistrationRows
{
    public const string TableName = "WebhookRegistrations";
    public const string Partition = "merchant";
    private const string RetiredPartition = "retired";

    public async Task<IReadOnlyList<StoredWebhookRegistration>> ListAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableName, cancellationToken);
        var registrations = new List<StoredWebhookRegistration>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: cancellationToken))
        {
            if (Guid.TryParse(row.GetString("RegistrationId"), out var id))
            {
                registrations.Add(new StoredWebhookRegistration(row.RowKey, id, row.GetString("Url") ?? "", NullIfEmpty(row.GetString("Secret")),
                    NullIfEmpty(row.GetString("ConfiguredSecretHash")), row.GetDateTimeOffset("RegisteredAt") ?? default)
                {
                    SecretInKeyVault = row.GetBoolean("SecretInKeyVault") ?? false,
                });
            }
        }

        return registrations;
    }

    public async Task SaveAsync(StoredWebhookRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var table = await tables.GetAsync(TableName, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, registration.MerchantId)
        {
            ["RegistrationId"] = registration.RegistrationId.ToString(),
            ["Url"] = registration.Url,
            ["Secret"] = registration.Secret ?? "",
            ["ConfiguredSecretHash"] = registration.ConfiguredSecretHash ?? "",
            ["RegisteredAt"] = registration.RegisteredAt.ToUniversalTime(),
            ["SecretInKeyVault"] = registration.SecretInKeyVault,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task RetireConfiguredSecretAsync(string merchantId, string secretHash, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableName, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(RetiredPartition, $"{merchantId}-{secretHash}"), TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<bool> IsRetiredAsync(string merchantId, string secretHash, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableName, cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(RetiredPartition, $"{merchantId}-{secretHash}", cancellationToken: cancellationToken)).HasValue;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
