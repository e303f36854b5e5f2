using System.Globalization;

namespace Vending.Domain;

/// <summary>
/// The one set of limits on what callers send. The request readers (<c>Http/RequestReaders</c>), the create validator
/// (<c>Sales/CreateSaleValidator</c>) and the API document (<c>docs/openapi.yaml</c>, compared by a test) all read
/// these numbers, so a machine developer meets the same rule wherever it is checked.
/// </summary>
/// <remarks>
/// Where a value travels to Vipps MobilePay the limit is theirs or tighter: a sale becomes an ePayment payment whose
/// <c>amount</c> is at most 65 000 000 minor units, whose receipt lines carry our product id and name, whose
/// <c>paymentDescription</c> (3..100 characters) is built from the machine id and line names, and whose
/// <c>reference</c> is <c>[a-zA-Z0-9-]{8,64}</c>. The machine's own sale id goes into the payment's metadata and into
/// Table Storage keys; it uses the reference's alphabet and length so one id scheme fits both.
/// </remarks>
public static class InputLimits
{
    /// <summary>A machine's id: lower case, so one machine cannot be provisioned twice under two spellings; it is the
    /// first part of the machine's API key (<c>{machineId}.{secret}</c>).</summary>
    public const string MachineIdPattern = "^[a-z0-9-]{3,32}$";

    /// <summary>The machine's own id of a sale: its idempotency key for create.</summary>
    public const int MachineSaleIdMaxLength = 64;
    public const string MachineSaleIdPattern = "^[A-Za-z0-9-]{1,64}$";

    /// <summary>Product ids become receipt line ids and name lines in a partial vend report.</summary>
    public const int ProductIdMaxLength = 64;
    public const string ProductIdPattern = "^[A-Za-z0-9._:-]{1,64}$";

    /// <summary>A line name is shown to the customer on the receipt in the app and in the payment description.</summary>
    public const int LineNameMaxLength = 100;

    /// <summary>A vending sale is a handful of items: twenty lines keep the receipt readable in the app.</summary>
    public const int MaxLines = 20;

    public const int MinQuantity = 1;
    public const int MaxQuantity = 100;

    /// <summary>Minor units, tax included. A free line is refused: Vipps cannot capture zero.</summary>
    public const long MinUnitPrice = 1;

    /// <summary>ePayment's upper bound for one payment's amount (minor units); a single unit cannot exceed it either.</summary>
    public const long MaxAmount = 65_000_000;

    /// <summary>Hundredths of a percent, as ePayment's <c>taxRate</c>: 2500 = 25 %.</summary>
    public const int MaxTaxRate = 10_000;

    public const int MinQrSize = 100;
    public const int MaxQrSize = 2000;

    /// <summary>A partial vend names at most every line of the sale; quantity 0 is "none of this line".</summary>
    public const int MaxDeliveredQuantity = MaxQuantity;

    /// <summary>The ePayment reference of a sale.</summary>
    public const string ReferencePattern = "^[a-zA-Z0-9-]{8,64}$";

    /// <summary>An operator refund's idempotency: our Idempotency-Key toward Vipps is derived from it and must stay within
    /// their 50 characters.</summary>
    public const string RequestIdPattern = "^[A-Za-z0-9-]{1,40}$";
    public const int RequestIdMaxLength = 40;

    /// <summary>A refund cannot exceed the captured amount, which cannot exceed <see cref="MaxAmount"/>.</summary>
    public const long MaxRefundAmount = MaxAmount;

    public const int MachineNameMaxLength = 100;
    public const int MachineLocationMaxLength = 200;
    public const int MerchantIdMaxLength = 64;

    /// <summary>
    /// Whether <paramref name="text"/> may be shown to a person: no control characters (category Cc: NUL, ESC, ...),
    /// no format characters (Cf: the bidi overrides U+202A..U+202E and isolates U+2066..U+2069 that reorder a receipt
    /// line, zero-width characters, the BOM), no line or paragraph separators and no unpaired surrogates.
    /// </summary>
    public static bool IsDisplayText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var category = char.GetUnicodeCategory(text, i);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate)
            {
                return false;
            }

            if (char.IsHighSurrogate(text[i]))
            {
                i++; // the pair was read as one code point
            }
        }

        return true;
    }
}
