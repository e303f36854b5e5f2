using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Vending.Vipps.Tests.Support;

namespace Vending.Vipps.Tests;

public sealed class OptionsValidationTests
{
    [Fact]
    public void A_complete_configuration_starts_without_touching_the_network()
    {
        using var context = new VippsTestContext();

        context.Services.GetRequiredService<IStartupValidator>().Validate();
        _ = context.EPayment;
        _ = context.Webhooks;

        Assert.Empty(context.Handler.Requests);
    }

    [Theory]
    [InlineData("Vipps:Merchants:vippsno:ClientSecret")]
    [InlineData("Vipps:Merchants:vippsno:ClientId")]
    [InlineData("Vipps:Merchants:vippsno:SubscriptionKey")]
    [InlineData("Vipps:Merchants:mobilepaydk:MerchantSerialNumber")]
    [InlineData("Vipps:BaseUrl")]
    public void A_missing_setting_fails_at_start_naming_its_key(string key)
    {
        var message = StartupFailure(s => s.Remove(key));

        Assert.Contains(key, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_merchant_id_that_cannot_be_an_app_setting_name_fails_at_start()
    {
        var message = StartupFailure(s =>
        {
            foreach (var key in s.Keys.Where(k => k.StartsWith("Vipps:Merchants:vippsno:", StringComparison.Ordinal)).ToList())
            {
                s[key.Replace("vippsno", "vipps-no", StringComparison.Ordinal)] = s[key];
                s.Remove(key);
            }
        });

        Assert.Contains("Vipps:Merchants:vipps-no: a merchant id may hold only ASCII letters and digits", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_merchant_without_currencies_fails_naming_the_key()
    {
        var message = StartupFailure(s => s.Remove("Vipps:Merchants:vippsno:Currencies:0"));

        Assert.Contains("Vipps:Merchants:vippsno:Currencies", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_currency_outside_NOK_DKK_EUR_fails_naming_the_key()
    {
        var message = StartupFailure(s => s["Vipps:Merchants:mobilepaydk:Currencies:1"] = "SEK");

        Assert.Contains("Vipps:Merchants:mobilepaydk:Currencies:1", message, StringComparison.Ordinal);
        Assert.Contains("SEK", message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_merchant_at_all_fails()
    {
        var message = StartupFailure(s =>
        {
            foreach (var key in s.Keys.Where(k => k.StartsWith("Vipps:Merchants:", StringComparison.Ordinal)).ToList())
            {
                s.Remove(key);
            }
        });

        Assert.Contains("Vipps:Merchants", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("12345678901")]
    [InlineData("12a456")]
    public void A_malformed_merchant_serial_number_fails(string msn)
    {
        var message = StartupFailure(s => s["Vipps:Merchants:vippsno:MerchantSerialNumber"] = msn);

        Assert.Contains("Vipps:Merchants:vippsno:MerchantSerialNumber", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_base_url_fails()
    {
        var message = StartupFailure(s => s["Vipps:BaseUrl"] = "apitest.vipps.no");

        Assert.Contains("Vipps:BaseUrl", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_system_name_longer_than_30_characters_fails()
    {
        var message = StartupFailure(s => s["Vipps:SystemName"] = new string('s', 31));

        Assert.Contains("SystemName", message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_attempt_timeout_above_the_total_timeout_fails()
    {
        var message = StartupFailure(s =>
        {
            s["Vipps:AttemptTimeoutSeconds"] = "20";
            s["Vipps:TotalTimeoutSeconds"] = "10";
        });

        Assert.Contains("Vipps:AttemptTimeoutSeconds", message, StringComparison.Ordinal);
    }

    private static string StartupFailure(Action<Dictionary<string, string?>> breakIt)
    {
        using var context = new VippsTestContext(breakIt);
        var failure = Assert.Throws<OptionsValidationException>(() => context.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Empty(context.Handler.Requests);
        return failure.Message;
    }
}
