using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Vending.Core.Storage;

/// <summary>
/// The continuation token of a listing that walks one partition per UTC day (the audit trail, sales of all machines):
/// the day and the last RowKey read, base64url. Anything not of our making (wrong alphabet, day or row key shape) is
/// refused before any query is made.
/// </summary>
internal static class DayPageToken
{
    public static string Encode(DateTime day, string rowKey) =>
        PageToken.Encode($"{day:yyyyMMdd}|{rowKey}");

    /// <summary>The day and row key, or null when the token is not one we issued; the row key must match
    /// <paramref name="rowKeyShape"/> (anchored by the caller).</summary>
    public static (DateTime Day, string RowKey)? Decode(string token, Regex rowKeyShape)
    {
        if (PageToken.Decode(token) is not { } text)
        {
            return null;
        }

        return text.Length > 9 && text[8] == '|'
            && DateTime.TryParseExact(text[..8], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day)
            && rowKeyShape.IsMatch(text[9..])
            ? (day, text[9..])
            : null;
    }
}

/// <summary>
/// The text of a continuation token, base64url without padding. Decoding refuses anything not of that shape (wrong
/// alphabet, over 200 characters, not base64) before the caller checks what the text says.
/// </summary>
internal static partial class PageToken
{
    public static string Encode(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string? Decode(string token)
    {
        if (token.Length is 0 or > 200 || !Alphabet().IsMatch(token))
        {
            return null;
        }

        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var written) ? Encoding.UTF8.GetString(bytes, 0, written) : null;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex Alphabet();
}
