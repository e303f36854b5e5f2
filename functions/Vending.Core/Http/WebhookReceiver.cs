using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Observability;
using Vending.Core.Sales;
using Vending.Core.Webhooks;
using Vending.Vipps;
using Vending.Vipps.EPayment;
using Vending.Vipps.Webhooks;

namespace Vending.Core.Http;

/// <summary>
/// A webhook whose signature checked out, with the merchant whose secret signed it. <paramref name="PolledInstead"/> is
/// set when its date was stale: the reference was polled at Vipps instead, and the body must not be recorded.
/// </summary>
public sealed record VerifiedWebhook(string MerchantId, PaymentEvent Event, WebhookOutcome? PolledInstead = null);

/// <summary>Brings one sale up to date from Vipps' event log (what a stale webhook is answered with).</summary>
public interface IStaleWebhookPoller
{
    Task<WebhookOutcome> PollAsync(string merchantId, string reference, CancellationToken cancellationToken);
}

/// <summary>The poll the reconciler and the long poll use (<see cref="VippsEventIngest.PollAsync"/>), for one reference.</summary>
public sealed class SaleEventLogPoller(ISaleStore store, VippsEventIngest ingest) : IStaleWebhookPoller
{
    public async Task<WebhookOutcome> PollAsync(string merchantId, string reference, CancellationToken cancellationToken)
    {
        var sale = await store.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        if (sale is null || sale.MerchantId != merchantId)
        {
            return WebhookOutcome.UnknownReference;
        }

        return await ingest.PollAsync(sale, cancellationToken).ConfigureAwait(false) > 0 ? WebhookOutcome.Applied : WebhookOutcome.Duplicate;
    }
}

/// <summary>
/// Authenticates a Vipps webhook before trusting a byte of it: the bounded raw body is verified against every
/// configured secret (HMAC over the registered URL, see <see cref="WebhookSignature"/>); only then is it parsed, and
/// its <c>msn</c> must be that of a merchant whose secret signed it.
/// A correctly signed webhook whose <c>x-ms-date</c> lies outside the skew window is not refused: Vipps may retry a
/// delivery with its first attempt's date (undocumented either way), and refusing it would make Vipps retry it for
/// days. Its body is not trusted either (it may be an old message replayed): the reference is polled at Vipps instead.
/// </summary>
public sealed class WebhookReceiver(
    RequestBodyReader bodies,
    IWebhookSecretProvider secrets,
    IOptions<VendingOptions> options,
    TimeProvider time,
    IStaleWebhookPoller stalePoller,
    ILogger<WebhookReceiver> logger)
{
    private readonly Uri _webhookUrl = options.Value.WebhookUrl;
    private readonly TimeSpan _skew = TimeSpan.FromSeconds(options.Value.WebhookClockSkewSeconds);

    public async Task<VerifiedWebhook> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = await bodies.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        var date = Header(request, WebhookSignature.DateHeader);
        var contentHash = Header(request, WebhookSignature.ContentHashHeader);
        var authorization = Header(request, WebhookSignature.AuthorizationHeader);
        var now = time.GetUtcNow();

        var signers = new List<WebhookSecret>();
        var lastFailure = WebhookSignatureResult.MissingHeaders;
        var stale = false;
        foreach (var secret in await secrets.GetSecretsAsync(cancellationToken).ConfigureAwait(false))
        {
            var result = WebhookSignature.Verify(secret.Secret, _webhookUrl, date, contentHash, authorization, body, now, _skew);
            if (result == WebhookSignatureResult.StaleOrInvalidDate
                && WebhookSignature.Verify(secret.Secret, _webhookUrl, date, contentHash, authorization, body, now, TimeSpan.MaxValue) == WebhookSignatureResult.Valid)
            {
                // Signed by Vipps, but dated outside the window: authentic, possibly old.
                stale = true;
                result = WebhookSignatureResult.Valid;
            }

            if (result == WebhookSignatureResult.Valid)
            {
                signers.Add(secret);
            }
            else
            {
                lastFailure = result;
            }
        }

        if (signers.Count == 0)
        {
            logger.LogWarning("Webhook refused: {Failure} against every configured secret (date {XMsDate})", lastFailure, date);
            WebhookMetrics.Refused(lastFailure.ToString());
            throw new ApiProblemException(StatusCodes.Status401Unauthorized, ApiErrors.InvalidSignature, "The webhook signature is not valid.");
        }

        var paymentEvent = Parse(body);
        var signer = signers.FirstOrDefault(s => s.MerchantSerialNumber == paymentEvent.Msn);
        if (signer is null)
        {
            logger.LogWarning("Webhook for {Reference} names msn {Msn}, not the merchant {MerchantId} whose secret signed it",
                paymentEvent.Reference, paymentEvent.Msn, signers[0].MerchantId);
            WebhookMetrics.Refused("MerchantMismatch");
            throw new ApiProblemException(StatusCodes.Status400BadRequest, ApiErrors.MerchantMismatch, "The msn does not belong to the signing merchant.", "msn");
        }

        WebhookMetrics.Verified(signer.MerchantId);
        if (stale)
        {
            var polled = await stalePoller.PollAsync(signer.MerchantId, paymentEvent.Reference, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Webhook {EventName} for {Reference} dated {XMsDate}, outside the skew window: polled Vipps instead ({Outcome})",
                paymentEvent.Name, paymentEvent.Reference, date, polled);
            return new VerifiedWebhook(signer.MerchantId, paymentEvent, polled);
        }

        return new VerifiedWebhook(signer.MerchantId, paymentEvent);
    }

    // Vipps may add payload fields (userDetails, shippingDetails, ...): unknown fields are fine here, missing ones are not.
    private static PaymentEvent Parse(byte[] body)
    {
        PaymentEvent? paymentEvent;
        try
        {
            paymentEvent = JsonSerializer.Deserialize<PaymentEvent>(body, VippsJson.Options);
        }
        catch (JsonException)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, ApiErrors.InvalidJson, "The webhook body is not a valid payment event.");
        }

        var missing = paymentEvent switch
        {
            null => "",
            { Msn: null or "" } => "msn",
            { Reference: null or "" } => "reference",
            { PspReference: null or "" } => "pspReference",
            { Name: null or "" } => "name",
            { Amount: null } or { Amount.Currency: null or "" } => "amount",
            _ when paymentEvent.Timestamp == default => "timestamp",
            _ => null,
        };

        return missing is null
            ? paymentEvent!
            : throw new ApiProblemException(StatusCodes.Status400BadRequest, ApiErrors.ValidationFailed, "The webhook body misses a required field.", missing.Length == 0 ? null : missing);
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
}
