using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

/// <summary>What a broken deployment looks like at start: plain http to a real host, Key Vault references that did not resolve.</summary>
public sealed class DeploymentValidationTests
{
    private const string Reference = "@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/vipps-vippsno-client-secret)";

    [Theory]
    [InlineData("http://apitest.vipps.no")]
    [InlineData("http://10.0.0.4:8080")]
    public void Plain_http_to_anything_but_loopback_fails_the_start_naming_Vipps_BaseUrl(string baseUrl)
    {
        var message = StartupFailure(s => s["Vipps:BaseUrl"] = baseUrl);

        Assert.Contains("Vipps:BaseUrl must be https", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7071")]
    [InlineData("http://localhost:7071")]
    [InlineData("http://[::1]:7071")]
    [InlineData("https://apitest.vipps.no")]
    public void Https_or_a_loopback_simulator_starts(string baseUrl)
    {
        using var context = new VippsTestContext(s => s["Vipps:BaseUrl"] = baseUrl);

        context.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Theory]
    [InlineData("Vipps:Merchants:vippsno:ClientSecret")]
    [InlineData("Vipps:Merchants:vippsno:SubscriptionKey")]
    [InlineData("Vipps:Merchants:mobilepaydk:ClientId")]
    public void An_unresolved_Key_Vault_reference_fails_the_start_naming_its_setting(string key)
    {
        var message = StartupFailure(s => s[key] = Reference);

        Assert.Contains($"{key} is an unresolved Key Vault reference", message, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-abc", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unresolved_webhook_secret_counts_as_no_secret_rather_than_a_wrong_one()
    {
        using var context = new VippsTestContext(s => s["Vipps:Merchants:vippsno:WebhookSecret"] = Reference.Replace("client-secret", "webhook-secret", StringComparison.Ordinal));

        context.Services.GetRequiredService<IStartupValidator>().Validate();
        var options = context.Services.GetRequiredService<IOptions<VippsOptions>>().Value;
        Assert.Null(options.Merchants["vippsno"].WebhookSecret);
    }

    private static string StartupFailure(Action<Dictionary<string, string?>> breakIt)
    {
        using var context = new VippsTestContext(breakIt);
        var failure = Assert.Throws<OptionsValidationException>(() => context.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Empty(context.Handler.Requests);
        return failure.Message;
    }
}
