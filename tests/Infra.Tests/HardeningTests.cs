namespace Infra.Tests;

/// <summary>What the infra review asked for, on the compiled template of the default (public) environment.</summary>
[Collection(TemplateCollection.Name)]
public sealed class HardeningTests(CompiledTemplate template)
{
    [Fact]
    public void Basic_publishing_credentials_are_off_for_FTP_and_SCM()
    {
        var policies = template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
            .ToDictionary(p => p["name"]!.GetValue<string>().Split('/').Last(), p => p["properties"]!["allow"]!.GetValue<bool>());
        Assert.Equal(new Dictionary<string, bool> { ["ftp"] = false, ["scm"] = false }, policies);
    }

    [Fact]
    public void Purge_protection_is_a_parameter_off_by_default_and_on_when_asked()
    {
        var parameter = template.ArmTemplate["parameters"]!["keyVaultPurgeProtection"]!;
        Assert.Equal("bool", parameter["type"]!.GetValue<string>());
        Assert.False(parameter["defaultValue"]!.GetValue<bool>());
        // The test environment asks for it (production).
        Assert.True(template.Single("Microsoft.KeyVault/vaults")["properties"]!["enablePurgeProtection"]!.GetValue<bool>());
    }

    [Fact]
    public void Merchant_values_the_app_would_refuse_are_typed_so_the_deployment_refuses_them()
    {
        var definitions = template.ArmTemplate["definitions"]!;
        var merchant = definitions["vippsMerchantType"]!["properties"]!;
        Assert.Equal("int", merchant["merchantSerialNumber"]!["type"]!.GetValue<string>());
        Assert.Equal(1000, merchant["merchantSerialNumber"]!["minValue"]!.GetValue<long>());
        Assert.Equal(9999999999, merchant["merchantSerialNumber"]!["maxValue"]!.GetValue<long>());
        var currency = definitions.AsObject().Single(d => d.Key.EndsWith("vippsCurrencyType", StringComparison.Ordinal)).Value!;
        Assert.Equal(["DKK", "EUR", "NOK"], currency["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>()).Order());
    }

    [Theory]
    [InlineData("merchantSerialNumber: 123", "currencies: ['NOK']")]
    [InlineData("merchantSerialNumber: 12345678901", "currencies: ['NOK']")]
    [InlineData("merchantSerialNumber: 123456", "currencies: ['SEK']")]
    public void A_bad_merchant_value_fails_the_build_of_the_parameters(string msn, string currencies)
    {
        var dir = Directory.CreateTempSubdirectory("infra-bad-merchant-").FullName;
        try
        {
            var usingPath = Path.GetRelativePath(dir, Repo.PathOf("infra", "main.bicep")).Replace('\\', '/');
            var file = Path.Combine(dir, "bad.bicepparam");
            File.WriteAllText(file, $$"""
                using '{{usingPath}}'
                param environmentName = 'bad'
                param location = 'norwayeast'
                param vippsMerchants = [
                  {
                    id: 'main'
                    {{msn}}
                    clientId: 'client'
                    {{currencies}}
                  }
                ]
                """);
            var result = BicepCli.Run(dir, "build-params", file, "--stdout");
            Assert.NotEqual(0, result.ExitCode);
            // The error points at the bad value's line: line 7 is the MSN, line 9 the currencies.
            var badLine = currencies.Contains("SEK", StringComparison.Ordinal) ? 9 : 7;
            Assert.Matches($@"bad\.bicepparam\({badLine},\d+\) : Error BCP", result.StandardOutput + result.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_topic_has_a_default_subscription_that_keeps_events_and_dead_letters_expired_ones()
    {
        var subscription = template.Single("Microsoft.ServiceBus/namespaces/topics/subscriptions");
        Assert.EndsWith("/payment-events/archive", subscription["name"]!.GetValue<string>());
        Assert.True(subscription["properties"]!["deadLetteringOnMessageExpiration"]!.GetValue<bool>());
        Assert.Equal("P14D", subscription["properties"]!["defaultMessageTimeToLive"]!.GetValue<string>());
    }

    [Fact]
    public void Without_network_isolation_Key_Vault_and_Service_Bus_keep_only_what_the_app_needs()
    {
        var vault = template.Single("Microsoft.KeyVault/vaults")["properties"]!;
        Assert.False(vault["enabledForDeployment"]!.GetValue<bool>());
        Assert.False(vault["enabledForTemplateDeployment"]!.GetValue<bool>());
        Assert.False(vault["enabledForDiskEncryption"]!.GetValue<bool>());
        Assert.True(vault["enableRbacAuthorization"]!.GetValue<bool>());
        var serviceBus = template.Single("Microsoft.ServiceBus/namespaces");
        Assert.True(serviceBus["properties"]!["disableLocalAuth"]!.GetValue<bool>());
        Assert.Equal("Standard", serviceBus["sku"]!["name"]!.GetValue<string>());
        Assert.Empty(template.OfType("Microsoft.Network/privateEndpoints"));
        Assert.Empty(template.OfType("Microsoft.Network/virtualNetworks"));
        Assert.Null(template.FunctionApp["properties"]!["virtualNetworkSubnetId"]);
    }

    [Fact]
    public void Flex_HTTP_concurrency_is_set_for_long_polls_and_the_capture_function_starts_cold_by_default()
    {
        var scale = template.FunctionApp["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;
        Assert.Equal(100, scale["triggers"]!["http"]!["perInstanceConcurrency"]!.GetValue<int>());
        Assert.DoesNotContain(scale["alwaysReady"]!.AsArray(), a => a!["name"]!.GetValue<string>() == "function:SaleCommand");
    }

    [Fact]
    public void Azure_yaml_hands_every_environment_value_of_main_bicepparam_to_a_pipeline_and_runs_the_post_provision_check()
    {
        var bicepparam = File.ReadAllText(Repo.PathOf("infra", "main.bicepparam"));
        var read = System.Text.RegularExpressions.Regex.Matches(bicepparam, @"readEnvironmentVariable\('([A-Z_]+)'").Select(m => m.Groups[1].Value).ToHashSet();
        // azd sets these itself in every environment, the pipeline's included.
        read.ExceptWith(["AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID"]);

        var yaml = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(Repo.PathOf("azure.yaml")));
        var pipeline = (Dictionary<object, object>)yaml["pipeline"];
        var variables = ((List<object>)pipeline["variables"]).Cast<string>().ToHashSet();
        var secrets = ((List<object>)pipeline["secrets"]).Cast<string>().ToHashSet();
        Assert.Equal(read.Order(), variables.Union(secrets).Order());
        Assert.Equal(["VIPPS_MERCHANT_SECRETS"], secrets);

        var hooks = (Dictionary<object, object>)yaml["hooks"];
        var postprovision = (Dictionary<object, object>)hooks["postprovision"];
        Assert.Equal("scripts/postprovision.sh", postprovision["run"]);
        Assert.True(File.Exists(Repo.PathOf("scripts", "postprovision.sh")));
    }

    [Fact]
    public void Secrets_are_written_only_when_asked()
    {
        var parameter = template.ArmTemplate["parameters"]!["writeVippsSecrets"]!;
        Assert.Equal("bool", parameter["type"]!.GetValue<string>());
        Assert.False(parameter["defaultValue"]!.GetValue<bool>());

        // Every secret resource of the vault module is conditional on writeSecrets (main passes writeVippsSecrets).
        var secrets = Descendants(template.ArmTemplate).OfType<System.Text.Json.Nodes.JsonObject>()
            .Where(o => (string?)o["type"] is "Microsoft.KeyVault/vaults/secrets").ToList();
        Assert.Equal(3, secrets.Count);
        Assert.All(secrets, s => Assert.Contains("parameters('writeSecrets')", s["condition"]!.GetValue<string>(), StringComparison.Ordinal));
        var vaultModule = Descendants(template.ArmTemplate).OfType<System.Text.Json.Nodes.JsonObject>()
            .Single(o => (string?)o["type"] == "Microsoft.Resources/deployments" && (string?)o["name"] == "keyvault");
        Assert.Equal("[parameters('writeVippsSecrets')]", vaultModule["properties"]!["parameters"]!["writeSecrets"]!["value"]!.GetValue<string>());
    }

    private static IEnumerable<System.Text.Json.Nodes.JsonNode> Descendants(System.Text.Json.Nodes.JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            System.Text.Json.Nodes.JsonObject o => o.Select(p => p.Value),
            System.Text.Json.Nodes.JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<System.Text.Json.Nodes.JsonNode>())
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }
}

/// <summary>networkIsolation = true: private endpoints for Storage, Key Vault and Service Bus, the app on the VNet.</summary>
[Collection(IsolatedTemplateCollection.Name)]
public sealed class NetworkIsolationTests(IsolatedTemplate template)
{
    [Fact]
    public void Storage_Key_Vault_and_Service_Bus_are_reached_only_through_private_endpoints()
    {
        var storage = template.StorageAccount;
        var vault = template.Single("Microsoft.KeyVault/vaults");
        var serviceBus = template.Single("Microsoft.ServiceBus/namespaces");
        foreach (var resource in new[] { storage, vault, serviceBus })
        {
            Assert.Equal("Disabled", resource["properties"]!["publicNetworkAccess"]!.GetValue<string>());
        }

        Assert.Equal("Deny", storage["properties"]!["networkAcls"]!["defaultAction"]!.GetValue<string>());
        Assert.Equal("Premium", serviceBus["sku"]!["name"]!.GetValue<string>());

        var endpoints = template.OfType("Microsoft.Network/privateEndpoints").ToList();
        var byGroup = endpoints.ToDictionary(
            e => e["properties"]!["privateLinkServiceConnections"]![0]!["properties"]!["groupIds"]![0]!.GetValue<string>(),
            e => e["properties"]!["privateLinkServiceConnections"]![0]!["properties"]!["privateLinkServiceId"]!.GetValue<string>());
        Assert.Equal(["blob", "namespace", "queue", "table", "vault"], byGroup.Keys.Order());
        Assert.Equal(storage["id"]!.GetValue<string>(), byGroup["blob"]);
        Assert.Equal(storage["id"]!.GetValue<string>(), byGroup["table"]);
        Assert.Equal(storage["id"]!.GetValue<string>(), byGroup["queue"]);
        Assert.Equal(vault["id"]!.GetValue<string>(), byGroup["vault"]);
        Assert.Equal(serviceBus["id"]!.GetValue<string>(), byGroup["namespace"]);

        var subnet = template.Single("Microsoft.Network/virtualNetworks")["properties"]!["subnets"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "private-endpoints")!;
        Assert.All(endpoints, e => Assert.EndsWith("/subnets/private-endpoints", e["properties"]!["subnet"]!["id"]!.GetValue<string>()));
        Assert.NotNull(subnet);
        Assert.Equal(5, template.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Count());
        Assert.Equal(5, template.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Count());
    }

    [Fact]
    public void The_function_app_joins_the_delegated_subnet_and_routes_all_traffic_through_it()
    {
        var vnet = template.Single("Microsoft.Network/virtualNetworks");
        var app = vnet["properties"]!["subnets"]!.AsArray().Single(s => s!["name"]!.GetValue<string>() == "app")!;
        Assert.Equal("Microsoft.App/environments", app["properties"]!["delegations"]![0]!["properties"]!["serviceName"]!.GetValue<string>());
        var site = template.FunctionApp["properties"]!;
        Assert.EndsWith($"/virtualNetworks/{vnet["name"]!.GetValue<string>()}/subnets/app", site["virtualNetworkSubnetId"]!.GetValue<string>());
        Assert.True(site["siteConfig"]!["vnetRouteAllEnabled"]!.GetValue<bool>());
    }
}
