using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Infra.Tests;

[Collection(TemplateCollection.Name)]
public sealed partial class ResourceTests(CompiledTemplate template)
{
    [Fact]
    public void Template_compiles_and_expands_without_diagnostics()
    {
        Assert.Equal("", template.BuildDiagnostics);
        Assert.Empty(template.SnapshotDiagnostics);
        Assert.DoesNotContain("Warning", template.SnapshotOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_table_and_queue_named_in_the_docs_and_the_code_is_declared()
    {
        var (docTables, docQueues) = Contracts.DocumentedStorage();
        var (codeTables, codeQueues) = Contracts.StorageNamesInCode();
        var account = template.StorageAccount["name"]!.GetValue<string>();
        var tables = ChildNames("Microsoft.Storage/storageAccounts/tableServices/tables", $"{account}/default/");
        var queues = ChildNames("Microsoft.Storage/storageAccounts/queueServices/queues", $"{account}/default/");

        Assert.All(docTables.Concat(codeTables).Append("WebhookRegistrations"), t => Assert.Contains(t, tables));
        Assert.All(docQueues.Concat(codeQueues), q => Assert.Contains(q, queues));
        Assert.Contains("sale-commands-poison", queues);
    }

    [Fact]
    public void Storage_accepts_only_Entra_authentication_over_TLS_1_2_and_nothing_public()
    {
        var properties = template.StorageAccount["properties"]!;
        Assert.False(properties["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(properties["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", properties["minimumTlsVersion"]!.GetValue<string>());
        Assert.True(properties["supportsHttpsTrafficOnly"]!.GetValue<bool>());
        Assert.True(properties["defaultToOAuthAuthentication"]!.GetValue<bool>());
    }

    [Fact]
    public void Function_app_runs_on_Flex_Consumption_as_dotnet_isolated_10_deployed_with_the_identity()
    {
        var plan = template.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", plan["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("FlexConsumption", plan["sku"]!["tier"]!.GetValue<string>());

        var site = template.FunctionApp;
        Assert.Equal("functionapp,linux", site["kind"]!.GetValue<string>());
        Assert.Equal(plan["id"]!.GetValue<string>(), site["properties"]!["serverFarmId"]!.GetValue<string>());
        Assert.True(site["properties"]!["httpsOnly"]!.GetValue<bool>());
        Assert.Equal("azd-service-name", site["tags"]!.AsObject().Single(t => t.Value!.GetValue<string>() == "api").Key);

        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", config["runtime"]!["name"]!.GetValue<string>());
        Assert.Equal("10.0", config["runtime"]!["version"]!.GetValue<string>());

        var storage = config["deployment"]!["storage"]!;
        Assert.Equal("blobContainer", storage["type"]!.GetValue<string>());
        Assert.Equal("UserAssignedIdentity", storage["authentication"]!["type"]!.GetValue<string>());
        Assert.Equal(template.Identity["id"]!.GetValue<string>(), storage["authentication"]!["userAssignedIdentityResourceId"]!.GetValue<string>());
        var container = DeploymentContainer().Match(storage["value"]!.GetValue<string>());
        Assert.True(container.Success, storage["value"]!.ToJsonString());
        var account = template.StorageAccount["name"]!.GetValue<string>();
        Assert.Contains($"{account}/default/{container.Groups[1].Value}", template.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").Select(c => c["name"]!.GetValue<string>()));

        var alwaysReady = config["scaleAndConcurrency"]!["alwaysReady"]!.AsArray();
        Assert.Equal("http", alwaysReady.Single()!["name"]!.GetValue<string>());
        Assert.Equal(1, alwaysReady.Single()!["instanceCount"]!.GetValue<int>());
    }

    [Fact]
    public void Key_Vault_uses_RBAC_with_soft_delete_and_purge_protection()
    {
        var properties = template.Single("Microsoft.KeyVault/vaults")["properties"]!;
        Assert.True(properties["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.True(properties["enableSoftDelete"]!.GetValue<bool>());
        Assert.True(properties["enablePurgeProtection"]!.GetValue<bool>());
        Assert.Null(properties["accessPolicies"]);

        // Secret values come from the secure parameter, never inline.
        foreach (var secret in template.OfType("Microsoft.KeyVault/vaults/secrets"))
        {
            Assert.StartsWith("[parameters('vippsMerchantSecrets')", secret["properties"]!["value"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Service_Bus_and_Application_Insights_refuse_local_keys()
    {
        var serviceBus = template.Single("Microsoft.ServiceBus/namespaces");
        Assert.Equal("Standard", serviceBus["sku"]!["name"]!.GetValue<string>());
        Assert.True(serviceBus["properties"]!["disableLocalAuth"]!.GetValue<bool>());
        var topic = template.Single("Microsoft.ServiceBus/namespaces/topics");
        Assert.EndsWith("/payment-events", topic["name"]!.GetValue<string>());
        Assert.True(topic["properties"]!["requiresDuplicateDetection"]!.GetValue<bool>());

        Assert.True(template.Single("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!.GetValue<bool>());
        Assert.True(template.Single("Microsoft.OperationalInsights/workspaces")["properties"]!["features"]!["disableLocalAuth"]!.GetValue<bool>());
    }

    [Fact]
    public void Role_assignments_are_least_privilege_at_their_resource_with_deterministic_names()
    {
        var identityId = template.Identity["id"]!.GetValue<string>();
        string ScopeOf(string type) => template.Single(type)["id"]!.GetValue<string>();
        var account = ScopeOf("Microsoft.Storage/storageAccounts");
        var tables = template.OfType("Microsoft.Storage/storageAccounts/tableServices/tables").Select(t => t["id"]!.GetValue<string>()).ToList();
        var queues = template.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(q => q["id"]!.GetValue<string>()).ToList();
        Assert.Equal(7, tables.Count); // Sales (a partition per machine), OpenSales, Machines, UnmatchedWebhooks, WebhookRegistrations, OperatorAudit, SalesByDay
        Assert.Equal(2, queues.Count);
        // role -> the scopes it is granted at: data roles on each table and queue the app uses, never the account.
        var expected = new Dictionary<string, string[]>
        {
            ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = [account],                                              // Storage Blob Data Owner
            ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = [.. tables],                                            // Storage Table Data Contributor
            ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = [.. queues],                                            // Storage Queue Data Contributor
            ["4633458b-17de-408a-b874-0445c86b69e6"] = [ScopeOf("Microsoft.KeyVault/vaults")],                 // Key Vault Secrets User
            ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = [ScopeOf("Microsoft.ServiceBus/namespaces/topics")],    // Azure Service Bus Data Sender
            ["3913510d-42f4-4e42-8a64-420c390055eb"] = [ScopeOf("Microsoft.Insights/components")],             // Monitoring Metrics Publisher
        };

        var actual = new Dictionary<string, List<string>>();
        foreach (var assignment in template.OfType("Microsoft.Authorization/roleAssignments").Where(a => a["properties"]!["principalId"]!.GetValue<string>() != CompiledTemplate.DeployerPrincipalId))
        {
            var role = assignment["properties"]!["roleDefinitionId"]!.GetValue<string>().Split('/').Last();
            var name = GuidName().Match(assignment["name"]!.GetValue<string>());
            Assert.True(name.Success, "role assignment name is not guid(scope, principalId, role): " + assignment["name"]);
            Assert.Equal(identityId, name.Groups["principal"].Value);
            Assert.Equal(role, name.Groups["role"].Value);
            Assert.StartsWith($"[extensionResourceId('{name.Groups["scope"].Value}', 'Microsoft.Authorization/roleAssignments', ", assignment["id"]!.GetValue<string>());
            Assert.Equal($"[reference('{identityId}', '2024-11-30').principalId]", assignment["properties"]!["principalId"]!.GetValue<string>());
            Assert.Equal("ServicePrincipal", assignment["properties"]!["principalType"]!.GetValue<string>());
            var scopes = actual.TryGetValue(role, out var list) ? list : actual[role] = [];
            Assert.DoesNotContain(name.Groups["scope"].Value, scopes);
            scopes.Add(name.Groups["scope"].Value);
        }

        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (role, scopes) in expected)
        {
            Assert.Equal(scopes.Order(), actual[role].Order());
        }
    }

    [Fact]
    public void The_deploying_principal_gets_the_operator_roles_the_docs_name_and_nothing_else()
    {
        var mine = template.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => a["properties"]!["principalId"]!.GetValue<string>() == CompiledTemplate.DeployerPrincipalId)
            .ToDictionary(a => a["properties"]!["roleDefinitionId"]!.GetValue<string>().Split('/').Last(), a => a);
        Assert.Equal(["76199698-9eea-4c19-bc75-cec21354c6b6", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"], mine.Keys.Order());
        // Key Vault Secrets Officer on the vault (set and rotate secrets), Storage Table Data Reader on the account (support reads).
        Assert.Contains(template.Single("Microsoft.KeyVault/vaults")["id"]!.GetValue<string>(), mine["b86a8fe4-44ce-4948-aee5-eccb2c155cd7"]["id"]!.GetValue<string>());
        Assert.Contains(template.StorageAccount["id"]!.GetValue<string>(), mine["76199698-9eea-4c19-bc75-cec21354c6b6"]["id"]!.GetValue<string>());
        Assert.All(mine.Values, a => Assert.Equal("User", a["properties"]!["principalType"]!.GetValue<string>()));
        var docs = File.ReadAllText(Repo.PathOf("docs", "deploy.md"));
        Assert.Contains("Key Vault Secrets Officer", docs, StringComparison.Ordinal);
        Assert.Contains("Storage Table Data Reader", docs, StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_and_non_vault_resources_carry_no_secret()
    {
        foreach (var (name, value) in template.Outputs)
        {
            var text = value?.ToJsonString() ?? "";
            Assert.DoesNotContain("vippsMerchantSecrets", text, StringComparison.Ordinal);
            Assert.All(CompiledTemplate.SecretValues, s => Assert.False(text.Contains(s, StringComparison.Ordinal), $"output {name} holds a secret"));
        }
        foreach (var resource in template.Resources.Where(r => (string?)r["type"] != "Microsoft.KeyVault/vaults/secrets"))
        {
            Assert.DoesNotContain("vippsMerchantSecrets", resource.ToJsonString(), StringComparison.Ordinal);
        }
        // Secure parameters really are secure in the compiled template.
        Assert.Equal("secureObject", template.ArmTemplate["parameters"]!["vippsMerchantSecrets"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Resource_names_come_from_one_token_and_the_abbreviations_table()
    {
        var abbreviations = JsonNode.Parse(File.ReadAllText(Repo.PathOf("infra", "abbreviations.json")))!.AsObject()
            .Select(a => a.Value!.GetValue<string>()).ToList();
        // The alerts, their action group and the workbook are named by their own rule (ObservabilityInfraTests).
        string[] monitoring = ["Microsoft.Insights/actionGroups", "Microsoft.Insights/scheduledQueryRules", "Microsoft.Insights/workbooks"];
        var topLevel = template.Resources.Where(r => !((string)r["type"]!).Contains("/roleAssignments", StringComparison.Ordinal) && ((string)r["type"]!).Count(c => c == '/') == 1
            && !monitoring.Contains((string)r["type"]!)).ToList();
        Assert.Equal(8, topLevel.Count);
        var tokens = topLevel.Select(r =>
        {
            var name = r["name"]!.GetValue<string>();
            var prefix = abbreviations.Where(name.StartsWith).OrderByDescending(p => p.Length).FirstOrDefault();
            Assert.True(prefix is not null, $"{name} does not start with an abbreviation from infra/abbreviations.json");
            return name[prefix!.Length..];
        }).Distinct().ToList();
        Assert.Single(tokens);
        Assert.Matches("^[a-z0-9]{13}$", tokens[0]);
    }

    private HashSet<string> ChildNames(string type, string prefix) =>
        template.OfType(type).Select(r => r["name"]!.GetValue<string>()).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^\[guid\('(?<scope>[^']+)', reference\('(?<principal>[^']+)', '[^']+'\)\.principalId, '(?<role>[0-9a-f-]{36})'\)\]$")]
    private static partial Regex GuidName();

    [GeneratedRegex(@"^\[format\('\{0\}\{1\}', reference\('[^']+', '[^']+'\)\.primaryEndpoints\.blob, '([^']+)'\)\]$")]
    private static partial Regex DeploymentContainer();
}
