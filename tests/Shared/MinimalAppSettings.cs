namespace Vending.Testing;

/// <summary>The fewest settings the Function App's composition root accepts (one merchant, development storage):
/// what the DI tests build the app from, in the core's tests and in the worker-host test alike.</summary>
public static class MinimalAppSettings
{
    /// <summary>A fresh copy each call: tests change entries to prove a setting is required.</summary>
    public static Dictionary<string, string?> Create() => new()
    {
        ["VendingStorage"] = "UseDevelopmentStorage=true",
        ["Vending:PublicBaseUrl"] = "http://127.0.0.1:7072",
        ["Vipps:BaseUrl"] = "http://127.0.0.1:7071",
        ["Vipps:Merchants:vippsno:MerchantSerialNumber"] = "123456",
        ["Vipps:Merchants:vippsno:ClientId"] = "id",
        ["Vipps:Merchants:vippsno:ClientSecret"] = "secret",
        ["Vipps:Merchants:vippsno:SubscriptionKey"] = "key",
        ["Vipps:Merchants:vippsno:Currencies:0"] = "NOK",
    };
}
