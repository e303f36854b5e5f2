using Azure;
using Azure.Security.KeyVault.Secrets;
using Moq;
using Vending.Core.Webhooks;

namespace VendingFunctions.Tests.Operator;

/// <summary>The Key Vault store on a mocked vault and table: secrets go to the vault only, are read back from it, and a
/// secret missing from the vault reads as lost.</summary>
public sealed class KeyVaultWebhookRegistrationStoreTests
{
    private static readonly Guid Id = Guid.Parse("55555555-5555-5555-5555-555555555555");
    private readonly Mock<IWebhookRegistrationStore> _table = new(MockBehavior.Strict);
    private readonly Mock<SecretClient> _vault = new(MockBehavior.Strict);

    private KeyVaultWebhookRegistrationStore Store() => new(_table.Object, _vault.Object);

    [Fact]
    public async Task A_new_secret_is_written_to_the_vault_first_and_never_to_the_table()
    {
        var calls = new List<string>();
        KeyVaultSecret? written = null;
        StoredWebhookRegistration? saved = null;
        _vault.Setup(v => v.SetSecretAsync(It.IsAny<KeyVaultSecret>(), It.IsAny<CancellationToken>()))
            .Callback((KeyVaultSecret s, CancellationToken _) => { written = s; calls.Add("vault"); })
            .ReturnsAsync(Response.FromValue(new KeyVaultSecret("x", "y"), Mock.Of<Response>()));
        _table.Setup(t => t.SaveAsync(It.IsAny<StoredWebhookRegistration>(), It.IsAny<CancellationToken>()))
            .Callback((StoredWebhookRegistration r, CancellationToken _) => { saved = r; calls.Add("table"); })
            .Returns(Task.CompletedTask);

        await Store().SaveAsync(new StoredWebhookRegistration("vippsno", Id, "https://x/api/webhooks/vipps", "the-secret", null, DateTimeOffset.UtcNow), CancellationToken.None);

        Assert.Equal(["vault", "table"], calls);
        Assert.Equal(("vipps-vippsno-webhook-secret", "the-secret"), (written!.Name, written.Value));
        Assert.Null(saved!.Secret);
        Assert.True(saved.SecretInKeyVault);
        Assert.Equal(Id, saved.RegistrationId);
    }

    [Fact]
    public async Task Secrets_are_read_from_the_vault_and_a_deleted_one_is_lost()
    {
        _table.Setup(t => t.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new StoredWebhookRegistration("vippsno", Id, "u", null, null, DateTimeOffset.UtcNow) { SecretInKeyVault = true },
            new StoredWebhookRegistration("mobilepaydk", Id, "u", null, null, DateTimeOffset.UtcNow) { SecretInKeyVault = true },
            new StoredWebhookRegistration("adopted", Id, "u", null, "hash", DateTimeOffset.UtcNow),
        ]);
        _vault.Setup(v => v.GetSecretAsync("vipps-vippsno-webhook-secret", null, It.IsAny<SecretContentType?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(new KeyVaultSecret("vipps-vippsno-webhook-secret", "from-vault"), Mock.Of<Response>()));
        _vault.Setup(v => v.GetSecretAsync("vipps-mobilepaydk-webhook-secret", null, It.IsAny<SecretContentType?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RequestFailedException(404, "SecretNotFound"));

        var listed = (await Store().ListAsync(CancellationToken.None)).ToDictionary(r => r.MerchantId, r => r.Secret);

        Assert.Equal("from-vault", listed["vippsno"]);
        Assert.Null(listed["mobilepaydk"]);
        Assert.Null(listed["adopted"]);
    }
}
