using System.Net;

namespace Vending.Vipps;

/// <summary>
/// A Vipps MobilePay API answered with an error (after retries of transient failures), or did not answer in time.
/// <see cref="ErrorCode"/> is the numeric code from <c>extraDetails[name=ErrorCode]</c> when Vipps sent one
/// (e.g. 6090 capture too high); branch on status and code, never on the title text. <see cref="TraceId"/> is Vipps'
/// own id of the failed request (the problem body's <c>traceId</c>): quote it to Vipps support.
/// </summary>
public sealed class VippsApiException : Exception
{
    public VippsApiException(HttpStatusCode? statusCode, int? errorCode, string title, Exception? inner = null, string? traceId = null)
        : base($"Vipps API error {(int?)statusCode} {errorCode}: {title}{(traceId is null ? "" : $" (traceId {traceId})")}", inner)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        Title = title;
        TraceId = traceId;
    }

    /// <summary>Vipps' trace id of the request from the error body; null when Vipps sent none (gateway errors, no answer).</summary>
    public string? TraceId { get; }

    /// <summary>Null when no answer came (timeout, connection failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    public int? ErrorCode { get; }

    public string Title { get; }

    /// <summary>Worth trying again later with the same idempotency key: no answer, 5xx, 423 or 429.</summary>
    public bool IsTransient => StatusCode is null
        || (int)StatusCode >= 500
        || StatusCode == HttpStatusCode.Locked
        || StatusCode == HttpStatusCode.TooManyRequests;
}
