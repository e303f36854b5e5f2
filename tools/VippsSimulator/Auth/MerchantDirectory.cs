using Microsoft.Extensions.Options;
using VippsSimulator.Hosting;

namespace VippsSimulator.Auth;

/// <summary>A configured test merchant (sales unit) with its configuration key as <see cref="Id"/>.</summary>
public sealed record Merchant(string Id, MerchantOptions Options)
{
    public string Msn => Options.MerchantSerialNumber;
    public bool Accepts(string currency) => Options.Currencies.Contains(currency, StringComparer.Ordinal);
}

/// <summary>Looks merchants up by the credentials and headers Vipps identifies them by.</summary>
public sealed class MerchantDirectory
{
    private readonly IReadOnlyList<Merchant> _merchants;

    public MerchantDirectory(IOptions<SimulatorOptions> options)
    {
        _merchants = options.Value.Merchants.Select(m => new Merchant(m.Key, m.Value)).ToList();
        var duplicate = _merchants.GroupBy(m => m.Msn).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"Two simulator merchants share the MSN {duplicate.Key}.");
    }

    public IReadOnlyList<Merchant> All => _merchants;

    public Merchant? ByClientId(string clientId) => _merchants.FirstOrDefault(m => m.Options.ClientId == clientId);

    public Merchant? ByMsn(string msn) => _merchants.FirstOrDefault(m => m.Msn == msn);

    public Merchant? BySubscriptionKey(string key) => _merchants.FirstOrDefault(m => m.Options.SubscriptionKey == key);
}
