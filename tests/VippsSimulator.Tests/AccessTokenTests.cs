using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using VippsSimulator.Hosting;
using VippsSimulator.Tests.Support;

namespace VippsSimulator.Tests;

public sealed class AccessTokenTests(SimulatorHarness sim) : IClassFixture<SimulatorHarness>
{
    [Fact]
    public async Task Token_answer_has_every_documented_field_as_a_string()
    {
        using var response = await sim.RequestToken(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey, TestMerchants.VippsNo.Msn);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(OpenApiSchema.AccessToken.Value.CheckResponse("/accesstoken/get", "post", 200, body));
        var json = JsonNode.Parse(body)!;
        Assert.Equal("Bearer", json["token_type"]!.GetValue<string>());
        Assert.Equal("3600", json["expires_in"]!.GetValue<string>());
        var notBefore = long.Parse(json["not_before"]!.GetValue<string>());
        Assert.Equal(notBefore + 3600, long.Parse(json["expires_on"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(TestMerchants.VippsNo.ClientId, "wrong-secret", TestMerchants.VippsNo.SubscriptionKey, null)]
    [InlineData("unknown-client", TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey, null)]
    [InlineData(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.MobilePayDk.SubscriptionKey, null)]
    [InlineData(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey, TestMerchants.MobilePayDk.Msn)]
    [InlineData(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, "", null)]
    public async Task Bad_credentials_are_401(string clientId, string secret, string subscriptionKey, string? msn)
    {
        using var response = await sim.RequestToken(clientId, secret, subscriptionKey, msn);
        Assert.Equal(401, (int)response.StatusCode);
    }

    [Fact]
    public async Task Missing_client_id_is_400()
    {
        using var response = await sim.RequestToken("", TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey);
        Assert.Equal(400, (int)response.StatusCode);
    }

    [Fact]
    public async Task Api_calls_need_a_valid_bearer_token()
    {
        var reference = SimulatorHarness.NewReference();
        var missing = await sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}", headers: h => h.Authorization = null);
        var forged = await sim.Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}", token: "eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJ4In0.c2ln");

        missing.AssertProblem(401, null);
        forged.AssertProblem(401, null);
        Assert.Empty(OpenApiSchema.EPayment.Value.Check(OpenApiSchema.EPayment.Value.Component("Problem"), forged.Body));
    }

    [Fact]
    public async Task Subscription_key_and_msn_must_belong_to_the_token_merchant()
    {
        var path = $"/epayment/v1/payments/{SimulatorHarness.NewReference()}";
        var otherKey = await sim.Call(HttpMethod.Get, path, headers: h =>
        {
            h.Remove("Ocp-Apim-Subscription-Key");
            h.Add("Ocp-Apim-Subscription-Key", TestMerchants.MobilePayDk.SubscriptionKey);
        });
        var otherMsn = await sim.Call(HttpMethod.Get, path, headers: h =>
        {
            h.Remove("Merchant-Serial-Number");
            h.Add("Merchant-Serial-Number", TestMerchants.MobilePayDk.Msn);
        });
        var noMsn = await sim.Call(HttpMethod.Get, path, headers: h => h.Remove("Merchant-Serial-Number"));
        var noKey = await sim.Call(HttpMethod.Get, path, headers: h => h.Remove("Ocp-Apim-Subscription-Key"));

        otherKey.AssertProblem(403, null);
        otherMsn.AssertProblem(403, null);
        noMsn.AssertProblem(403, null);
        noKey.AssertProblem(401, null);
    }

    [Fact]
    public async Task Token_stops_working_when_it_expires()
    {
        var token = await sim.Token();
        var path = $"/epayment/v1/payments/{SimulatorHarness.NewReference()}";
        (await sim.Call(HttpMethod.Get, path, token: token)).AssertProblem(404, "5090");

        sim.Simulator.AdvanceClock(TimeSpan.FromSeconds(3601));

        (await sim.Call(HttpMethod.Get, path, token: token)).AssertProblem(401, null);
        (await sim.Call(HttpMethod.Get, path)).AssertProblem(404, "5090");
    }
}
