using System.Globalization;
using System.Text.RegularExpressions;
using VippsSimulator.Http;

namespace VippsSimulator.Auth;

/// <summary><c>POST /accesstoken/get</c>: credentials in headers, empty body, every response field a string.</summary>
public static partial class AccessTokenEndpoints
{
    [GeneratedRegex("^[0-9]{4,10}$")] private static partial Regex MsnPattern();

    public sealed record TokenView(
        [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] string ExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("ext_expires_in")] string ExtExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_on")] string ExpiresOn,
        [property: System.Text.Json.Serialization.JsonPropertyName("not_before")] string NotBefore,
        [property: System.Text.Json.Serialization.JsonPropertyName("resource")] string Resource,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken);

    public static void MapAccessToken(this IEndpointRouteBuilder app)
    {
        app.MapPost("/accesstoken/get", async (HttpContext context, MerchantDirectory merchants, AccessTokens tokens, VippsRequestPipeline pipeline) =>
        {
            var headers = context.Request.Headers;
            var clientId = headers["client_id"].ToString();
            var clientSecret = headers["client_secret"].ToString();
            var subscriptionKey = headers["Ocp-Apim-Subscription-Key"].ToString();
            var msn = headers["Merchant-Serial-Number"].ToString();
            var merchant = merchants.ByClientId(clientId);

            var fault = await pipeline.ApplyFault(context, "token", merchant?.Msn, null);
            if (fault is not null) return VippsRequestPipeline.FaultResult(context, fault);

            if (subscriptionKey.Length == 0)
                return new VippsError(401, "Unauthorized", Detail: "Access denied due to missing subscription key.").ToResult(context);
            if (clientId.Length == 0 || clientSecret.Length == 0)
                return VippsError.Validation([new ExtraDetail(clientId.Length == 0 ? "client_id" : "client_secret", "The header is required.")]).ToResult(context);
            if (context.Request.ContentLength > 0)
                return VippsError.Validation([new ExtraDetail("body", "The body must be empty.")]).ToResult(context);
            if (msn.Length > 0 && !MsnPattern().IsMatch(msn))
                return VippsError.Validation([new ExtraDetail("Merchant-Serial-Number", "Must match ^[0-9]{4,10}$.")]).ToResult(context);
            if (merchant is null || merchant.Options.ClientSecret != clientSecret || merchant.Options.SubscriptionKey != subscriptionKey
                || msn.Length > 0 && msn != merchant.Msn)
                return new VippsError(401, "Unauthorized", Detail: "Invalid client credentials, subscription key or MSN.").ToResult(context);

            var issued = tokens.Issue(merchant);
            var view = new TokenView("Bearer", Text(issued.LifetimeSeconds), "0", Text(issued.ExpiresOn.ToUnixTimeSeconds()),
                Text(issued.NotBefore.ToUnixTimeSeconds()), "00000002-0000-0000-c000-000000000000", issued.AccessToken);
            return Results.Json(view, SimulatorJson.Options, "application/json;charset=UTF-8");
        });
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
