using System.Security.Cryptography;

namespace Vending.Domain.Sales;

/// <summary>
/// A sale's reference is <c>{machineId}-{16 of a-z2-7}</c>: random (80 bits, so unique per merchant as Vipps wants)
/// and naming its machine, which is how storage finds the machine's partition from a reference alone. Anything else
/// is not one of our sales.
/// </summary>
public static class SaleReferences
{
    public const int RandomLength = 16;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>Machine ids are 3 to 32 of a-z, 0-9 and '-' (the machine directory's pattern).</summary>
    private const int MinMachineIdLength = 3;
    private const int MaxMachineIdLength = 32;

    public static string New(string machineId) => $"{machineId}-{RandomNumberGenerator.GetString(Alphabet, RandomLength)}";

    /// <summary>The machine a reference names, or false when <paramref name="reference"/> is not of our shape.</summary>
    public static bool TryMachineOf(string? reference, out string machineId)
    {
        machineId = "";
        if (reference is null || reference.Length < MinMachineIdLength + 1 + RandomLength || reference.Length > MaxMachineIdLength + 1 + RandomLength)
        {
            return false;
        }

        var dash = reference.Length - RandomLength - 1;
        if (reference[dash] != '-')
        {
            return false;
        }

        foreach (var c in reference.AsSpan(dash + 1))
        {
            if (Alphabet.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        foreach (var c in reference.AsSpan(0, dash))
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        machineId = reference[..dash];
        return true;
    }
}
