using System.Globalization;

namespace VippsSimulator.Payments;

// The response shapes of the ePayment spec (v1.8.1), serialized camelCase.

public sealed record AggregateView(Money AuthorizedAmount, Money CancelledAmount, Money CapturedAmount, Money RefundedAmount);

public sealed record PaymentMethodView(string Type);

public sealed record ProfileView(string? Sub);

public sealed record CreatePaymentView(string Reference, string? RedirectUrl);

public sealed record GetPaymentView(
    AggregateView Aggregate, Money Amount, PaymentState State, PaymentMethodView PaymentMethod, ProfileView Profile,
    string PspReference, string? RedirectUrl, string Reference, Dictionary<string, string>? Metadata);

public sealed record ModificationView(Money Amount, PaymentState State, AggregateView Aggregate, string PspReference, string Reference);

public sealed record PaymentEventView(
    string Reference, string PspReference, PaymentEventName Name, Money Amount, string Timestamp, string? IdempotencyKey, bool Success);

/// <summary>The webhook body: <c>WebhookEvent</c> of the spec.</summary>
public sealed record WebhookEventView(
    string Msn, string Reference, string PspReference, PaymentEventName Name, Money Amount, string Timestamp, string? IdempotencyKey, bool Success);

public static class PaymentViews
{
    public static AggregateView Aggregate(Payment p) => new(p.Of(p.Authorized), p.Of(p.Cancelled), p.Of(p.Captured), p.Of(p.Refunded));

    public static ModificationView Modification(Payment p) => new(p.Amount, p.State, Aggregate(p), p.CreatedPspReference, p.Reference);

    /// <summary>Seven fractional digits and Z, one of the two forms Vipps documents.</summary>
    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static PaymentEventView Event(PaymentEvent e) =>
        new(e.Reference, e.PspReference, e.Name, e.Amount, Timestamp(e.Timestamp), e.IdempotencyKey, e.Success);

    public static WebhookEventView Webhook(PaymentEvent e) =>
        new(e.Msn, e.Reference, e.PspReference, e.Name, e.Amount, Timestamp(e.Timestamp), e.IdempotencyKey, e.Success);
}
