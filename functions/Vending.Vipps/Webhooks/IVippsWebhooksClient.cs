namespace Vending.Vipps.Webhooks;

/// <summary>Webhooks v1: registrations are per merchant (MSN); the secret is returned once, at registration.</summary>
public interface IVippsWebhooksClient
{
    Task<WebhookRegistration> RegisterAsync(string merchant, string url, IReadOnlyList<string> events, CancellationToken cancellationToken);

    Task<IReadOnlyList<WebhookInfo>> ListAsync(string merchant, CancellationToken cancellationToken);

    Task DeleteAsync(string merchant, Guid id, CancellationToken cancellationToken);
}

public sealed record WebhookRegistration(Guid Id, string Secret);

public sealed record WebhookInfo(Guid Id, string Url, IReadOnlyList<string> Events);

public static class WebhookEventTypes
{
    public const string Created = "epayments.payment.created.v1";
    public const string Aborted = "epayments.payment.aborted.v1";
    public const string Expired = "epayments.payment.expired.v1";
    public const string Cancelled = "epayments.payment.cancelled.v1";
    public const string Captured = "epayments.payment.captured.v1";
    public const string Refunded = "epayments.payment.refunded.v1";
    public const string Authorized = "epayments.payment.authorized.v1";
    public const string Terminated = "epayments.payment.terminated.v1";

    public static readonly IReadOnlyList<string> All = [Created, Aborted, Expired, Cancelled, Captured, Refunded, Authorized, Terminated];
}
