using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Infra.Tests;

/// <summary>
/// Operator sign-in in the compiled template: App Service Authentication (authsettingsV2) with Entra ID, not required
/// at the platform (the functions authorize), the machine API, the Vipps webhook and health excluded, no operator path
/// excluded; the app trusts the principal header exactly when sign-in is on; the secrets are Key Vault references;
/// and the two app roles the code checks are the ones the docs tell ops to create.
/// </summary>
[Collection(TemplateCollection.Name)]
public sealed partial class OperatorAuthInfraTests(CompiledTemplate template)
{
    private JsonObject AuthSettings => template.OfType("Microsoft.Web/sites/config")
        .Single(r => ((string?)r["name"])!.EndsWith("/authsettingsV2", StringComparison.Ordinal));

    [Fact]
    public void Sign_in_is_on_not_required_and_leaves_the_machine_api_the_webhook_and_health_alone()
    {
        var properties = AuthSettings["properties"]!;
        Assert.True(properties["platform"]!["enabled"]!.GetValue<bool>());
        Assert.False(properties["globalValidation"]!["requireAuthentication"]!.GetValue<bool>());
        Assert.Equal("AllowAnonymous", properties["globalValidation"]!["unauthenticatedClientAction"]!.GetValue<string>());
        var excluded = properties["globalValidation"]!["excludedPaths"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Equal(["/api/health", "/api/payments", "/api/payments/*", "/api/webhooks/vipps"], excluded.Order());
        Assert.DoesNotContain(excluded, p => p.StartsWith("/api/operator", StringComparison.Ordinal) || p.StartsWith("/api/console", StringComparison.Ordinal));
        Assert.True(properties["httpSettings"]!["requireHttps"]!.GetValue<bool>());
        Assert.False(properties["login"]!["tokenStore"]!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public void Entra_id_uses_the_given_app_registration_with_its_secret_from_key_vault()
    {
        var aad = AuthSettings["properties"]!["identityProviders"]!["azureActiveDirectory"]!;
        Assert.True(aad["enabled"]!.GetValue<bool>());
        Assert.Equal(CompiledTemplate.OperatorAuthClientId, aad["registration"]!["clientId"]!.GetValue<string>());
        var issuer = aad["registration"]!["openIdIssuer"]!.GetValue<string>();   // an ARM expression: the cloud's login endpoint + tenant
        Assert.Contains("environment().authentication.loginEndpoint", issuer, StringComparison.Ordinal);
        Assert.Contains("/v2.0", issuer, StringComparison.Ordinal);
        var secretSetting = aad["registration"]!["clientSecretSettingName"]!.GetValue<string>();
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", template.AppSettings[secretSetting], StringComparison.Ordinal);
        Assert.Contains("operator-auth-client-secret", template.AppSettings[secretSetting], StringComparison.Ordinal);
        Assert.Contains($"api://{CompiledTemplate.OperatorAuthClientId}", aad["validation"]!["allowedAudiences"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public void The_app_trusts_the_principal_header_because_sign_in_is_on_and_the_automation_key_is_a_key_vault_reference()
    {
        Assert.Equal("true", template.AppSettings["Vending__Operator__TrustPlatformPrincipal"]);
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", template.AppSettings["Vending__Operator__AutomationKey"], StringComparison.Ordinal);
        Assert.Contains("operator-automation-key", template.AppSettings["Vending__Operator__AutomationKey"], StringComparison.Ordinal);
    }

    [Fact]
    public void Without_an_app_registration_sign_in_is_off_and_the_header_is_not_trusted()
    {
        using var isolated = new IsolatedTemplate();   // compiled without operatorAuthClientId
        var auth = isolated.OfType("Microsoft.Web/sites/config").Single(r => ((string?)r["name"])!.EndsWith("/authsettingsV2", StringComparison.Ordinal));
        Assert.False(auth["properties"]!["platform"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("false", isolated.AppSettings["Vending__Operator__TrustPlatformPrincipal"]);
        Assert.False(isolated.AppSettings.ContainsKey("MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"));
    }

    [Fact]
    public void The_docs_give_ops_the_app_roles_the_code_checks()
    {
        var operatorDoc = File.ReadAllText(Repo.PathOf("docs", "operator.md"));
        var code = File.ReadAllText(Repo.PathOf("functions", "Vending.Core", "Operator", "Access", "OperatorPrincipal.cs"));
        foreach (var role in new[] { "Vending.Operator", "Vending.Viewer" })
        {
            Assert.Contains($"\"{role}\"", code, StringComparison.Ordinal);
            // The app manifest's appRoles entry ops paste: "value": "Vending.Operator".
            Assert.Matches(new Regex($"\"value\":\\s*\"{Regex.Escape(role)}\""), operatorDoc);
        }

        Assert.Contains("authsettingsV2", File.ReadAllText(Repo.PathOf("docs", "deploy.md")), StringComparison.Ordinal);
    }
}
