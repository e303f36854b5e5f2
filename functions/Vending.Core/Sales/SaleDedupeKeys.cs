namespace Vending.Core.Sales;

/// <summary>
/// Keys of a sale's dedupe rows. The recorder hands one to the store with the decision it commits; the store writes a
/// row under it in the same transaction, and that insert fails on a repeat, so the same Vipps event counts once
/// whether it came by webhook or by poll. The key is the application's (what makes two events "the same"); the
/// store only writes it.
/// </summary>
public static class SaleDedupeKeys
{
    /// <summary>A Vipps event on the sale (<c>w-{name}-{pspReference}</c>). pspReference comes from outside: characters
    /// a table key cannot hold (/ \ # ? and control characters) become '_'.</summary>
    public static string VippsEvent(string eventName, string pspReference) =>
        new($"w-{eventName}-{pspReference}".Select(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c) ? '_' : c).ToArray());
}
