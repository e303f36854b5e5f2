namespace Vending.Vipps.EPayment;

/// <summary>
/// The ePayment v1 operations the product uses. <paramref name="merchant"/> is our configuration key of the
/// merchant (see <see cref="VippsOptions.Merchants"/>), which selects credentials, MSN and token cache.
/// Every method throws <see cref="VippsApiException"/> on a non-success answer, after the resilience
/// pipeline has retried transient failures (5xx, 423, 429, timeouts) with the same idempotency key.
/// </summary>
public interface IVippsEPaymentClient
{
    Task<CreatePaymentResponse> CreatePaymentAsync(string merchant, CreatePaymentRequest request, string idempotencyKey, CancellationToken cancellationToken);

    Task<PaymentDetails> GetPaymentAsync(string merchant, string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<PaymentEvent>> GetPaymentEventsAsync(string merchant, string reference, CancellationToken cancellationToken);

    Task<ModificationResponse> CaptureAsync(string merchant, string reference, Amount modificationAmount, string idempotencyKey, CancellationToken cancellationToken);

    Task<ModificationResponse> CancelAsync(string merchant, string reference, bool cancelTransactionOnly, string idempotencyKey, CancellationToken cancellationToken);

    Task<ModificationResponse> RefundAsync(string merchant, string reference, Amount modificationAmount, string idempotencyKey, CancellationToken cancellationToken);
}
