using System.Security.Cryptography;
using System.Text;

namespace Vending.Domain.Sales;

/// <summary>
/// Stable <c>Idempotency-Key</c> values derived from a sale reference and an operation. A retry of the same
/// operation (a pipeline retry, a re-run queue message, a reconciler pass) must call this with the same
/// arguments and so send the same key; that is what lets Vipps answer a repeat without a second capture or refund.
/// Never use a fresh GUID per attempt.
/// </summary>
public static class IdempotencyKeys
{
    /// <summary>The longest key Vipps accepts.</summary>
    public const int MaxLength = 50;

    private const int MaxReadablePrefix = 23;
    private const string Base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>
    /// <c>{reference}-{operation}</c> (e.g. <c>vm17-000123-capture</c>) when that is at most 49 characters of
    /// <c>[A-Za-z0-9-]</c> and <paramref name="operation"/> has no dash. Otherwise exactly 50 characters: a
    /// readable prefix of the reference, a dash and base32 of SHA-256 over both inputs. The two forms never have
    /// the same length, and the readable form splits back into its inputs at its last dash, so distinct inputs
    /// give distinct keys (up to a 130-bit hash collision). Name repeatable operations distinctly, e.g.
    /// <c>refund1</c>, <c>refund2</c>.
    /// </summary>
    public static string For(string reference, string operation)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        ArgumentException.ThrowIfNullOrEmpty(operation);

        var readable = $"{reference}-{operation}";
        if (readable.Length < MaxLength && IsKeyText(reference) && IsKeyText(operation) && !operation.Contains('-'))
        {
            return readable;
        }

        var prefix = new string(reference.Where(char.IsAsciiLetterOrDigit).Take(MaxReadablePrefix).ToArray());
        if (prefix.Length == 0)
        {
            prefix = "k";
        }

        // Length-prefixed so that ("ab", "c") and ("a", "bc") hash differently.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{reference.Length}:{reference}|{operation}"));
        return $"{prefix}-{Base32(hash)[..(MaxLength - prefix.Length - 1)]}";
    }

    private static bool IsKeyText(string value) => value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static string Base32(byte[] bytes)
    {
        var text = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = ((buffer << 8) | b) & 0xFFFF; // at most 12 bits are pending here
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Base32Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(Base32Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }
}
