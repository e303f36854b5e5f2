namespace VippsSimulator.Hosting;

/// <summary>The credentials of the two merchants in the default configuration, for other projects' tests and settings.</summary>
public static class TestMerchants
{
    public static class VippsNo
    {
        public const string Id = "vipps-no";
        public const string Msn = "100001";
        public const string ClientId = "vipps-no-client-id";
        public const string ClientSecret = "vipps-no-client-secret";
        public const string SubscriptionKey = "vipps-no-subscription-key";
    }

    public static class MobilePayDk
    {
        public const string Id = "mobilepay-dk";
        public const string Msn = "200002";
        public const string ClientId = "mobilepay-dk-client-id";
        public const string ClientSecret = "mobilepay-dk-client-secret";
        public const string SubscriptionKey = "mobilepay-dk-subscription-key";
    }
}
