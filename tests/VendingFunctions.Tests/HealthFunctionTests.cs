using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Vending.Core.Http;
using VendingFunctions.Http;

namespace VendingFunctions.Tests;

/// <summary>The health endpoint names settings whose Key Vault reference did not resolve, never their values.</summary>
public sealed class HealthFunctionTests
{
    [Fact]
    public void With_every_reference_resolved_it_answers_ok()
    {
        var body = Body(new() { ["Vipps:Merchants:vippsno:WebhookSecret"] = "resolved-secret-value" });

        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.False(body.TryGetProperty("unresolvedKeyVaultReferences", out _));
    }

    [Fact]
    public void An_unresolved_reference_is_reported_by_its_setting_name_only()
    {
        var body = Body(new()
        {
            ["Vipps:Merchants:vippsno:WebhookSecret"] = "@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/vipps-vippsno-webhook-secret)",
            ["Vipps:Merchants:vippsno:ClientSecret"] = "resolved-secret-value",
        });

        Assert.Equal("degraded", body.GetProperty("status").GetString());
        Assert.Equal(["Vipps:Merchants:vippsno:WebhookSecret"], body.GetProperty("unresolvedKeyVaultReferences").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain("kv-abc", body.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("resolved-secret-value", body.GetRawText(), StringComparison.Ordinal);
    }

    private static JsonElement Body(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var result = Assert.IsType<ApiResult>(new HealthFunction(configuration).Run(new DefaultHttpContext().Request));
        Assert.Equal(StatusCodes.Status200OK, result.Status);
        return JsonSerializer.SerializeToElement(result.Body, new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }
}
