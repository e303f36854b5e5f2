using Microsoft.Extensions.Configuration;
using Vending.Vipps;

namespace Vending.Core.Observability;

/// <summary>Settings whose value is still the literal <c>@Microsoft.KeyVault(...)</c> text: reported by the health
/// endpoint by name (never by value) so a deployment whose references did not resolve is seen at once.</summary>
public static class UnresolvedSettings
{
    public static IReadOnlyList<string> Find(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.AsEnumerable()
            .Where(pair => KeyVaultReferences.IsUnresolved(pair.Value))
            .Select(pair => pair.Key)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
    }
}
