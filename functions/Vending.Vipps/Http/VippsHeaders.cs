namespace Vending.Vipps.Http;

internal static class VippsHeaders
{
    public const string SubscriptionKey = "Ocp-Apim-Subscription-Key";
    public const string MerchantSerialNumber = "Merchant-Serial-Number";
    public const string IdempotencyKey = "Idempotency-Key";
    public const string SystemName = "Vipps-System-Name";
    public const string SystemVersion = "Vipps-System-Version";
    public const string SystemPluginName = "Vipps-System-Plugin-Name";
    public const string SystemPluginVersion = "Vipps-System-Plugin-Version";
    public const string ClientId = "client_id";
    public const string ClientSecret = "client_secret";
}

internal static class VippsHttpClientNames
{
    public const string AccessToken = "Vipps.AccessToken";
}
