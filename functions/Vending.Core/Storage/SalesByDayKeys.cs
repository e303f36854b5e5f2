namespace Vending.Core.Storage;

/// <summary>Keys of the <c>SalesByDay</c> table: partition <c>d-{yyyyMMdd}</c> (UTC), RowKey <c>{invertedTicks}-{reference}</c>.</summary>
public static class SalesByDayKeys
{
    public static string Partition(DateTimeOffset at) => "d-" + at.UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);

    public static string RowKey(DateTimeOffset at, string reference) => $"{Inverted(at)}-{reference}";

    /// <summary>Inverted ticks, 19 digits: RowKeys sort newest first.</summary>
    public static string Inverted(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", System.Globalization.CultureInfo.InvariantCulture);
}
