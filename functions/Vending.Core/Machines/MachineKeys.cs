using System.Security.Cryptography;
using System.Text;

namespace Vending.Core.Machines;

/// <summary>Machine API keys: "{machineId}.{secret}", the secret 256 random bits (base64url). Only SHA-256 of the
/// secret is stored; comparison is constant-time.</summary>
internal static class MachineKeys
{
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string ApiKey(string machineId, string secret) => $"{machineId}.{secret}";

    public static string Hash(string secret) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Splits at the first dot (machine ids have none).</summary>
    public static bool TrySplit(string? apiKey, out string machineId, out string secret)
    {
        machineId = secret = "";
        var dot = apiKey?.IndexOf('.') ?? -1;
        if (apiKey is null || dot <= 0 || dot == apiKey.Length - 1)
        {
            return false;
        }

        machineId = apiKey[..dot];
        secret = apiKey[(dot + 1)..];
        return true;
    }

    public static bool Matches(string secret, string? storedHash)
    {
        if (string.IsNullOrEmpty(storedHash))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        if (!Convert.TryFromBase64String(storedHash, expected, out var written) || written != 32)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), expected);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
