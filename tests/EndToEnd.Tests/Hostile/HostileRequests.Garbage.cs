using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VendingFunctions.Tests.Hostile;

/// <summary>Hostile requests for byte- and escape-level garbage that no text field may accept.</summary>
public sealed partial class HostileRequests
{
    /// <summary>Bytes (raw, or JSON escapes spelled in ASCII) that no text field may accept: each is invalid UTF-8, an
    /// unpaired surrogate, or a control, format or separator character.</summary>
    private static readonly (string Kind, byte[] Bytes)[] Garbage =
    [
        ("invalid UTF-8", [0xFF, 0xFE]),
        ("lone continuation byte", [0x80]),
        ("truncated sequence", [0xC3]),
        ("overlong '/'", [0xC0, 0xAF]),
        ("overlong NUL", [0xC0, 0x80]),
        ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
        ("UTF-8 encoded surrogate", [0xED, 0xA0, 0x80]),
        ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
        ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        ("raw NUL", [0x00]),
        ("escaped NUL", "\\u0000"u8.ToArray()),
        ("escaped control", "\\u001b"u8.ToArray()),
        ("lone high surrogate escape", "\\ud800"u8.ToArray()),
        ("lone low surrogate escape", "\\udc00"u8.ToArray()),
        ("swapped surrogate escapes", "\\udc00\\ud800"u8.ToArray()),
        ("high surrogate escape before text", "\\ud83dx"u8.ToArray()),
        ("raw BOM", [0xEF, 0xBB, 0xBF]),
        ("escaped BOM", "\\ufeff"u8.ToArray()),
        ("raw bidi override", [0xE2, 0x80, 0xAE]),
        ("escaped bidi isolate", "\\u2066"u8.ToArray()),
        ("zero width space", [0xE2, 0x80, 0x8B]),
        ("escaped line separator", "\\u2028"u8.ToArray()),
    ];

    /// <summary>The valid ASCII body with garbage inside the string value of <paramref name="field"/> (after its first
    /// character), sometimes behind a UTF-8 BOM, sometimes re-encoded as UTF-16.</summary>
    private (string Kind, byte[] Body, string ContentType) GarbageIn(string valid, string field)
    {
        var marker = $"\"{field}\":\"";
        var at = valid.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new InvalidOperationException($"{field} is not a string field of {valid}");
        }

        if (_random.Next(12) == 0)
        {
            // The whole body in UTF-16 with its BOM: not UTF-8 JSON, whatever it says.
            return ("UTF-16 body", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(valid)], "application/json");
        }

        var (kind, garbage) = Garbage[_random.Next(Garbage.Length)];
        var split = at + marker.Length + 1;
        byte[] body = [.. Encoding.ASCII.GetBytes(valid[..split]), .. garbage, .. Encoding.ASCII.GetBytes(valid[split..])];
        return _random.Next(6) == 0
            ? ($"UTF-8 BOM + {kind} in {field}", [0xEF, 0xBB, 0xBF, .. body], "application/json")
            : ($"{kind} in {field}", body, "application/json");
    }
}
