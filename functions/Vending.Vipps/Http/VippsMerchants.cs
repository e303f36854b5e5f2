namespace Vending.Vipps.Http;

internal static class VippsMerchants
{
    public static VippsMerchantOptions Get(VippsOptions options, string merchant)
    {
        ArgumentException.ThrowIfNullOrEmpty(merchant);
        return options.Merchants.TryGetValue(merchant, out var merchantOptions)
            ? merchantOptions
            : throw new ArgumentException($"No Vipps merchant '{merchant}' is configured under {VippsOptions.SectionName}:Merchants.", nameof(merchant));
    }
}
