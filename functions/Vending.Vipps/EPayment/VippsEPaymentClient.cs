using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Vipps.Authentication;
using Vending.Vipps.Http;

namespace Vending.Vipps.EPayment;

/// <summary>ePayment v1 over a typed HttpClient; see <see cref="IVippsEPaymentClient"/>.</summary>
internal sealed class VippsEPaymentClient(
    HttpClient httpClient,
    IVippsAccessTokenProvider tokens,
    IOptions<VippsOptions> options,
    ILogger<VippsEPaymentClient> logger) : IVippsEPaymentClient
{
    private const string Payments = "epayment/v1/payments";

    private readonly VippsRequestSender sender = new(httpClient, tokens, options.Value, logger);

    public Task<CreatePaymentResponse> CreatePaymentAsync(string merchant, CreatePaymentRequest request, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return sender.SendAsync<CreatePaymentResponse>(
            merchant, new VippsRequest(HttpMethod.Post, Payments, "create", request, idempotencyKey), cancellationToken);
    }

    public Task<PaymentDetails> GetPaymentAsync(string merchant, string reference, CancellationToken cancellationToken) =>
        sender.SendAsync<PaymentDetails>(merchant, new VippsRequest(HttpMethod.Get, PaymentPath(reference), "get"), cancellationToken);

    public async Task<IReadOnlyList<PaymentEvent>> GetPaymentEventsAsync(string merchant, string reference, CancellationToken cancellationToken) =>
        await sender.SendAsync<List<PaymentEvent>>(
            merchant, new VippsRequest(HttpMethod.Get, PaymentPath(reference) + "/events", "events"), cancellationToken).ConfigureAwait(false);

    public Task<ModificationResponse> CaptureAsync(string merchant, string reference, Amount modificationAmount, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modificationAmount);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return sender.SendAsync<ModificationResponse>(
            merchant,
            new VippsRequest(HttpMethod.Post, PaymentPath(reference) + "/capture", "capture", new ModificationRequest(modificationAmount), idempotencyKey),
            cancellationToken);
    }

    public Task<ModificationResponse> CancelAsync(string merchant, string reference, bool cancelTransactionOnly, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return sender.SendAsync<ModificationResponse>(
            merchant,
            new VippsRequest(HttpMethod.Post, PaymentPath(reference) + "/cancel", "cancel", new CancelRequest(cancelTransactionOnly), idempotencyKey),
            cancellationToken);
    }

    public Task<ModificationResponse> RefundAsync(string merchant, string reference, Amount modificationAmount, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modificationAmount);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return sender.SendAsync<ModificationResponse>(
            merchant,
            new VippsRequest(HttpMethod.Post, PaymentPath(reference) + "/refund", "refund", new ModificationRequest(modificationAmount), idempotencyKey),
            cancellationToken);
    }

    private static string PaymentPath(string reference)
    {
        ArgumentException.ThrowIfNullOrEmpty(reference);
        return $"{Payments}/{Uri.EscapeDataString(reference)}";
    }

    /// <summary>Body of capture and refund (<c>CaptureModificationRequest</c>, <c>RefundModificationRequest</c>).</summary>
    internal sealed record ModificationRequest(Amount ModificationAmount);

    /// <summary>Body of cancel (<c>CancelModificationRequest</c>); sent explicitly either way so the intent is on the wire.</summary>
    internal sealed record CancelRequest(bool CancelTransactionOnly);
}
