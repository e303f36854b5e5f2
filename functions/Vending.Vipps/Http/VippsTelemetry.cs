using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Vending.Vipps.Http;

/// <summary>
/// Spans and the call counter of the Vipps client, on the product's <c>Vending</c> ActivitySource and meter (the
/// core's Observability wiring subscribes by that name; this assembly cannot reference the core). Tags: operation,
/// merchant id, HTTP status and Vipps error code; never a header, token, key or body.
/// </summary>
public static class VippsTelemetry
{
    public const string SourceName = "Vending";
    public const string CallsName = "vending.vipps.calls";

    public const string OperationTag = "vipps.operation";
    public const string MerchantTag = "vending.merchant.id";
    public const string StatusTag = "http.response.status_code";
    public const string ErrorCodeTag = "vipps.error_code";

    private static readonly ActivitySource Source = new(SourceName);
    private static readonly Meter Meter = new(SourceName);

    private static readonly Counter<long> Calls = Meter.CreateCounter<long>(
        CallsName, "{call}", "Vipps API calls by operation, HTTP status (0: no answer) and Vipps error code.");

    /// <summary><c>vipps {operation}</c>, a client span around one logical call (its HTTP attempts are children).</summary>
    public static Activity? StartCall(string operation, string merchant)
    {
        var activity = Source.StartActivity($"vipps {operation}", ActivityKind.Client);
        activity?.SetTag(OperationTag, operation);
        activity?.SetTag(MerchantTag, merchant);
        return activity;
    }

    /// <summary>One answer (or none: <paramref name="status"/> 0) from Vipps.</summary>
    public static void Answered(string operation, string merchant, int status, int? errorCode)
    {
        var code = errorCode?.ToString(CultureInfo.InvariantCulture) ?? "";
        Calls.Add(1,
            new KeyValuePair<string, object?>(OperationTag, operation),
            new KeyValuePair<string, object?>(MerchantTag, merchant),
            new KeyValuePair<string, object?>(StatusTag, status),
            new KeyValuePair<string, object?>(ErrorCodeTag, code));
        if (Activity.Current is { } activity && activity.Source == Source)
        {
            activity.SetTag(StatusTag, status);
            if (errorCode is not null)
            {
                activity.SetTag(ErrorCodeTag, code);
            }

            if (status is 0 or >= 400)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
