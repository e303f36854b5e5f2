using System.Text.RegularExpressions;

namespace Infra.Tests;

/// <summary>The Function App gets every setting the code reads, in the identity-based form, and no key.</summary>
[Collection(TemplateCollection.Name)]
public sealed partial class AppSettingsTests(CompiledTemplate template)
{
    /// <summary>
    /// Keys the template deliberately does not set, each with the reason it is safe. The one place to look when
    /// the coverage test names a key: either the template sets it, or it belongs here with its reason.
    /// </summary>
    private static readonly Dictionary<string, string> NotSetByTemplate = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FUNCTIONS_WORKER_RUNTIME"] = "Flex Consumption takes the runtime from functionAppConfig.runtime and rejects it as an app setting (asserted in FlexConsumptionTests)",
        ["FUNCTIONS_EXTENSION_VERSION"] = "Flex Consumption runs Functions v4 only and rejects it as an app setting",
        ["Vipps:AttemptTimeoutSeconds"] = "VippsOptions default (docs/ARCHITECTURE.md: client behaviour, defaults)",
        ["Vipps:TotalTimeoutSeconds"] = "VippsOptions default (docs/ARCHITECTURE.md: client behaviour, defaults)",
        ["Vipps:SystemName"] = "VippsOptions default (docs/ARCHITECTURE.md: client behaviour, defaults)",
        ["Vipps:SystemVersion"] = "VippsOptions default (docs/ARCHITECTURE.md: client behaviour, defaults)",
        ["Vending:VendReportDeadlineSeconds"] = "default 120 s (docs/ARCHITECTURE.md)",
        ["Vending:WebhookClockSkewSeconds"] = "default 300 s (docs/ARCHITECTURE.md)",
        ["Vending:MaxRequestBodyBytes"] = "default 16384 (docs/ARCHITECTURE.md)",
        ["Vending:SecretRotationGraceSeconds"] = "default 86400 s in VendingOptions (docs/core.md, Settings read)",
        ["Vending:ExpiryGraceSeconds"] = "reconciler tuning, default 60 s in VendingOptions (docs/core.md)",
        ["Vending:CommandStaleSeconds"] = "reconciler tuning, default 120 s in VendingOptions (docs/core.md)",
        ["Vending:ReconcileBatchSize"] = "reconciler tuning, default 500 in VendingOptions (docs/core.md)",
        ["Vending:ReconcileParallelism"] = "reconciler tuning, default 8 in VendingOptions (docs/core.md)",
        ["Vending:CommandRetryWindowSeconds"] = "command retry window, default 14 days in VendingOptions: Vipps' shortest capture deadline (docs/core.md)",
        ["Vending:CommandRetryBaseMilliseconds"] = "command backoff tuning, default 5000 ms in VendingOptions (docs/core.md)",
        ["Vending:KeyVaultUri"] = "optional: the webhook-registration store in Key Vault needs write access the app identity deliberately lacks; ops store the secret (docs/deploy.md, docs/operator.md), and without it secrets go to table WebhookRegistrations",
        ["Events:SweepBatchSize"] = "outbox sweep tuning, default 100 in PaymentEventsOptions (docs/events.md)",
        ["FunctionsHost:FunctionKey"] = "read by tools/FunctionsHost only, never passed to the worker (locally the operator key); in Azure Vending__Operator__AutomationKey is a Key Vault reference",
        ["FunctionsHost:LocalSignIn"] = "read by tools/FunctionsHost only: the local stand-in for App Service Authentication, which Azure has for real (authsettingsV2)",
        ["Events:LocalSinkPath"] = "read only when no Service Bus is configured; Azure always has ServiceBus__fullyQualifiedNamespace",
        ["Telemetry:Console"] = "local debugging only: console exporter (docs/operations.md); Azure exports to Application Insights",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "local or self-hosted collectors only (docs/operations.md); Azure exports to Application Insights",
    };

    [Fact]
    public void Every_configuration_key_in_the_docs_and_the_trigger_bindings_is_set_by_the_template_or_has_a_documented_default() =>
        AssertAllSet(Contracts.ConfigurationKeys());

    [Fact]
    public void Every_key_of_local_settings_sample_is_set_by_the_template_or_has_a_documented_default() =>
        AssertAllSet(Contracts.SampleSettingsKeys().Distinct(StringComparer.OrdinalIgnoreCase).ToDictionary(k => k, _ => "local.settings.sample.json", StringComparer.OrdinalIgnoreCase));

    private void AssertAllSet(IReadOnlyDictionary<string, string> keysWithSource)
    {
        var settings = template.AppSettings.Keys.Select(Contracts.Normalize).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = new List<string>();
        foreach (var (key, source) in keysWithSource)
        {
            if (NotSetByTemplate.ContainsKey(key))
            {
                continue;
            }
            var expected = ForTestMerchant(key);
            // A section is satisfied by its children: "VendingStorage" (a connection string locally) is
            // VendingStorage__tableServiceUri/__queueServiceUri/__credential/__clientId in Azure.
            var isSet = settings.Contains(expected) || settings.Any(s => s.StartsWith(expected + ":", StringComparison.OrdinalIgnoreCase));
            if (!isSet)
            {
                missing.Add($"{key} (from {source}, expected app setting {expected.Replace(":", "__", StringComparison.Ordinal)})");
            }
        }
        Assert.True(missing.Count == 0, "app settings missing from infra/main.bicep:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Identity_based_connections_name_the_user_assigned_identity()
    {
        var settings = template.AppSettings;
        var clientId = $"[reference('{IdentityId}', '2024-11-30').clientId]";
        foreach (var prefix in new[] { "AzureWebJobsStorage", "VendingStorage", "ServiceBus" })
        {
            Assert.Equal("managedidentity", settings[$"{prefix}__credential"]);
            Assert.Equal(clientId, settings[$"{prefix}__clientId"]);
        }
        Assert.Equal(template.StorageAccount["name"]!.GetValue<string>(), settings["AzureWebJobsStorage__accountName"]);
        Assert.Contains(".primaryEndpoints.table", settings["VendingStorage__tableServiceUri"]);
        Assert.Contains(".primaryEndpoints.queue", settings["VendingStorage__queueServiceUri"]);
        Assert.Contains("serviceBusEndpoint", settings["ServiceBus__fullyQualifiedNamespace"]);
        Assert.Equal($"[format('ClientId={{0}};Authorization=AAD', {clientId[1..^1]})]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.Contains(".ConnectionString", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
    }

    [Fact]
    public void Settings_hold_the_documented_values_for_Azure()
    {
        var settings = template.AppSettings;
        Assert.Equal("0", settings["WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED"]); // Azure/azure-functions-dotnet-worker#3335
        Assert.Equal("0 */1 * * * *", settings["Reconciler__Schedule"]);
        Assert.Equal("payment-events", settings["Events__TopicName"]);
        Assert.Equal("https://apitest.vipps.no", settings["Vipps__BaseUrl"]);
        Assert.Matches(@"^\[format\('https://\{0\}', reference\('[^']+/providers/Microsoft\.Web/sites/[^']+', '[^']+'\)\.defaultHostName\)\]$", settings["Vending__PublicBaseUrl"]);
    }

    [Fact]
    public void Each_merchant_gets_its_own_block_with_secrets_as_Key_Vault_references()
    {
        var settings = template.AppSettings;
        foreach (var (id, msn, clientId) in new[] { (CompiledTemplate.FullMerchant, "123456", "client-id-main"), (CompiledTemplate.MinimalMerchant, "654321", "client-id-kiosk") })
        {
            Assert.Equal(msn, settings[$"Vipps__Merchants__{id}__MerchantSerialNumber"]);
            Assert.Equal(clientId, settings[$"Vipps__Merchants__{id}__ClientId"]);
            foreach (var (setting, secret) in new[] { ("ClientSecret", "client-secret"), ("SubscriptionKey", "subscription-key"), ("WebhookSecret", "webhook-secret") })
            {
                var value = settings[$"Vipps__Merchants__{id}__{setting}"];
                Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri={0}secrets/{1})', reference('", value);
                Assert.EndsWith($"'vipps-{id}-{secret}')]", value);
            }
        }
        Assert.Equal("NOK", settings["Vipps__Merchants__main__Currencies__0"]);
        Assert.Equal("EUR", settings["Vipps__Merchants__main__Currencies__1"]);
        Assert.Equal("DKK", settings[$"Vipps__Merchants__{CompiledTemplate.MinimalMerchant}__Currencies__0"]);
        Assert.Equal("Vipps", settings["Vipps__Merchants__main__Brand"]);
        Assert.Equal("true", settings["Vipps__Merchants__main__TargetUrlQrApproved"]);
        Assert.False(settings.ContainsKey($"Vipps__Merchants__{CompiledTemplate.MinimalMerchant}__Brand"), "an optional field left out must not become an empty setting");
    }

    [Fact]
    public void No_app_setting_holds_a_key_or_a_secret_value()
    {
        foreach (var (name, value) in template.AppSettings)
        {
            Assert.DoesNotContain("AccountKey=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessKey=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("SharedAccessSignature=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listKeys(", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listConnectionStrings(", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("parameters('vippsMerchantSecrets')", value, StringComparison.OrdinalIgnoreCase);
            foreach (var secret in CompiledTemplate.SecretValues)
            {
                Assert.False(value.Contains(secret, StringComparison.Ordinal), $"app setting {name} holds a secret value");
            }
        }
        // Nowhere in the template are keys fetched (listKeys & co. would put a key in the deployment).
        Assert.DoesNotMatch(@"(?i)\blist(Keys|AccountSas|ServiceSas|ConnectionStrings|Secrets)\(", template.ArmTemplate.ToJsonString());
    }

    [Fact]
    public void Every_Key_Vault_reference_is_resolved_by_the_user_assigned_identity_and_points_at_a_vault_secret()
    {
        var site = template.FunctionApp;
        var identityId = template.Identity["id"]!.GetValue<string>();
        Assert.Equal(identityId, site["properties"]!["keyVaultReferenceIdentity"]!.GetValue<string>());
        Assert.True(site["identity"]!["userAssignedIdentities"]!.AsObject().ContainsKey(identityId), "keyVaultReferenceIdentity must be one of the site's identities");

        var vaultSecrets = template.OfType("Microsoft.KeyVault/vaults/secrets").Select(s => s["name"]!.GetValue<string>().Split('/')[1]).ToHashSet();
        var references = template.AppSettings.Where(s => s.Value.Contains("@Microsoft.KeyVault(", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, references.Count); // 3 per merchant, the operator key and the sign-in client secret
        foreach (var (name, value) in references)
        {
            var secretName = KeyVaultSecretName().Match(value);
            Assert.True(secretName.Success, $"{name}: not a SecretUri reference: {value}");
            Assert.Contains("/providers/Microsoft.KeyVault/vaults/", value);
            // The webhook secret of a merchant whose webhook is not registered yet is set after deployment, and so are
            // the operator key and the sign-in client secret (ops create them: docs/deploy.md, "After the first deployment").
            if (!name.EndsWith("__WebhookSecret", StringComparison.Ordinal)
                && name is not ("Vending__Operator__AutomationKey" or "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"))
            {
                Assert.Contains(secretName.Groups[1].Value, vaultSecrets);
            }
        }
    }

    private string IdentityId => template.Identity["id"]!.GetValue<string>();

    /// <summary>"Vipps:Merchants:{merchantId}:Currencies:1" (docs) or "Vipps:Merchants:test:Brand" (sample):
    /// the same key for the deployed merchant with every field set; array indexes become 0.</summary>
    private static string ForTestMerchant(string key)
    {
        var match = MerchantKey().Match(key);
        if (!match.Success)
        {
            return key;
        }
        var rest = ArrayIndex().Replace(match.Groups[1].Value, ":0");
        return $"Vipps:Merchants:{CompiledTemplate.FullMerchant}:{rest}";
    }

    [GeneratedRegex(@"^Vipps:Merchants:[^:]+:(.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex MerchantKey();

    [GeneratedRegex(@":\d+$")]
    private static partial Regex ArrayIndex();

    [GeneratedRegex(@"secrets/\{1\}\)', reference\([^)]*\)\.vaultUri, '([^']+)'\)\]$")]
    private static partial Regex KeyVaultSecretName();
}
