using System.Text.Json.Nodes;

namespace Infra.Tests;

/// <summary>
/// infra/main.bicep compiled to ARM JSON and expanded by `bicep snapshot` for a test environment with two
/// merchants: the resources Azure would be asked to create, with every expression that can be known before
/// the deployment evaluated (names, loops, settings); values known only at run time (endpoints, client ids)
/// stay as ARM expressions.
/// </summary>
public class CompiledTemplate : IDisposable
{
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000000aa";
    public const string ResourceGroup = "rg-infra-tests";

    /// <summary>Merchant with every optional field set.</summary>
    public const string FullMerchant = "main";
    /// <summary>Merchant with only the required fields and no webhook secret yet.</summary>
    public const string MinimalMerchant = "kiosk2";

    public static readonly string[] SecretValues =
        ["client-secret-7c1e9a", "subscription-key-52d0b4", "webhook-secret-e83f11", "client-secret-kiosk-0d9c", "subscription-key-kiosk-a4e2"];

    /// <summary>The deploying principal the test environment names (AZURE_PRINCIPAL_ID).</summary>
    public const string DeployerPrincipalId = "5b3f2c1e-0000-4000-8000-00000000d3b1";
    public const string AlertEmail = "vending-ops@example.com";
    public const string OperatorAuthClientId = "7d1c9a52-0000-4000-8000-0000000a0714";

    private readonly string _workDir;

    public CompiledTemplate()
        : this("""
            param writeVippsSecrets = true
            param keyVaultPurgeProtection = true
            param alertEmail = '{{AlertEmail}}'
            param deployerPrincipalId = '{{DeployerPrincipalId}}'
            param operatorAuthClientId = '{{OperatorAuthClientId}}'
            """.Replace("{{AlertEmail}}", AlertEmail, StringComparison.Ordinal).Replace("{{DeployerPrincipalId}}", DeployerPrincipalId, StringComparison.Ordinal)
              .Replace("{{OperatorAuthClientId}}", OperatorAuthClientId, StringComparison.Ordinal))
    {
    }

    /// <param name="extraParameters">More <c>param</c> lines of the test environment (networkIsolation, ...).</param>
    protected CompiledTemplate(string extraParameters)
    {
        _workDir = Directory.CreateTempSubdirectory("infra-tests-").FullName;
        var mainBicep = Repo.PathOf("infra", "main.bicep");

        var build = BicepCli.Run(Repo.Root, "build", mainBicep, "--stdout");
        BuildDiagnostics = build.StandardError.Trim();
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("bicep build failed: " + build.StandardError);
        }
        ArmTemplate = JsonNode.Parse(build.StandardOutput)!.AsObject();

        // `using` must be a relative path.
        var usingPath = Path.GetRelativePath(_workDir, mainBicep).Replace('\\', '/');
        var paramFile = Path.Combine(_workDir, "test.bicepparam");
        File.WriteAllText(paramFile, $$"""
            using '{{usingPath}}'
            param environmentName = 'infratest'
            param location = 'norwayeast'
            param vippsMerchants = [
              {
                id: '{{FullMerchant}}'
                merchantSerialNumber: 123456
                clientId: 'client-id-main'
                currencies: ['NOK', 'EUR']
                brand: 'Vipps'
                targetUrlQrApproved: true
              }
              {
                id: '{{MinimalMerchant}}'
                merchantSerialNumber: 654321
                clientId: 'client-id-kiosk'
                currencies: ['DKK']
              }
            ]
            param vippsMerchantSecrets = {
              {{FullMerchant}}: { clientSecret: '{{SecretValues[0]}}', subscriptionKey: '{{SecretValues[1]}}', webhookSecret: '{{SecretValues[2]}}' }
              {{MinimalMerchant}}: { clientSecret: '{{SecretValues[3]}}', subscriptionKey: '{{SecretValues[4]}}' }
            }
            {{extraParameters}}
            """);
        var snapshot = BicepCli.Run(_workDir, "snapshot", paramFile, "--mode", "overwrite",
            "--subscription-id", SubscriptionId, "--resource-group", ResourceGroup, "--location", "norwayeast");
        SnapshotOutput = snapshot.StandardOutput + snapshot.StandardError;
        if (snapshot.ExitCode != 0)
        {
            throw new InvalidOperationException("bicep snapshot failed: " + SnapshotOutput);
        }
        SnapshotText = File.ReadAllText(Path.Combine(_workDir, "test.snapshot.json"));
        var root = JsonNode.Parse(SnapshotText)!.AsObject();
        Resources = root["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Outputs = root["outputs"]?.AsObject() ?? [];
        SnapshotDiagnostics = root["diagnostics"]?.AsArray() ?? [];
    }

    public JsonObject ArmTemplate { get; }
    public string BuildDiagnostics { get; }
    public string SnapshotText { get; }
    public string SnapshotOutput { get; }
    public IReadOnlyList<JsonObject> Resources { get; }
    public JsonObject Outputs { get; }
    public JsonArray SnapshotDiagnostics { get; }

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    public JsonObject Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one {type}, found {matches.Count}");
        return matches[0];
    }

    public JsonObject FunctionApp => Single("Microsoft.Web/sites");
    public JsonObject StorageAccount => Single("Microsoft.Storage/storageAccounts");
    public JsonObject Identity => Single("Microsoft.ManagedIdentity/userAssignedIdentities");

    /// <summary>The Function App's settings (the sites/config 'appsettings' resource), name to value.</summary>
    public IReadOnlyDictionary<string, string> AppSettings
    {
        get
        {
            var config = OfType("Microsoft.Web/sites/config").Single(r => ((string)r["name"]!).EndsWith("/appsettings", StringComparison.Ordinal));
            return config["properties"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}

/// <summary>The same environment with <c>networkIsolation = true</c>.</summary>
public sealed class IsolatedTemplate : CompiledTemplate
{
    public IsolatedTemplate()
        : base("param networkIsolation = true\nparam writeVippsSecrets = true")
    {
    }
}

[CollectionDefinition(Name)]
public sealed class IsolatedTemplateCollection : ICollectionFixture<IsolatedTemplate>
{
    public const string Name = "compiled template, network isolation";
}

[CollectionDefinition(Name)]
public sealed class TemplateCollection : ICollectionFixture<CompiledTemplate>
{
    public const string Name = "compiled template";
}
