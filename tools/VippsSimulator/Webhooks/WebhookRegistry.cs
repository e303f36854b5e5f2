using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace VippsSimulator.Webhooks;

public sealed record WebhookRegistration(Guid Id, string Msn, Uri Url, IReadOnlyList<string> Events, string Secret);

/// <summary>Registrations per MSN. The secret is returned once at registration, as Vipps does, and kept for signing.</summary>
public sealed class WebhookRegistry
{
    public static readonly string[] PaymentEvents =
    [
        "epayments.payment.created.v1", "epayments.payment.aborted.v1", "epayments.payment.expired.v1", "epayments.payment.cancelled.v1",
        "epayments.payment.captured.v1", "epayments.payment.refunded.v1", "epayments.payment.authorized.v1", "epayments.payment.terminated.v1",
    ];

    private readonly ConcurrentDictionary<Guid, WebhookRegistration> _registrations = new();
    private readonly object _registerLock = new();

    /// <summary>Registers unless one of the events already has <paramref name="maxPerEvent"/> registrations for the MSN.</summary>
    public WebhookRegistration? TryRegister(string msn, Uri url, IReadOnlyList<string> events, int maxPerEvent)
    {
        lock (_registerLock)
        {
            var full = events.Any(e => _registrations.Values.Count(r => r.Msn == msn && r.Events.Contains(e)) >= maxPerEvent);
            if (full) return null;
            var registration = new WebhookRegistration(Guid.NewGuid(), msn, url, events, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            _registrations[registration.Id] = registration;
            return registration;
        }
    }

    public IReadOnlyList<WebhookRegistration> For(string msn) => _registrations.Values.Where(r => r.Msn == msn).ToList();

    public WebhookRegistration? Find(Guid id) => _registrations.GetValueOrDefault(id);

    public bool Delete(string msn, Guid id) =>
        _registrations.TryGetValue(id, out var r) && r.Msn == msn && _registrations.TryRemove(id, out _);

    public IReadOnlyList<WebhookRegistration> Subscribed(string msn, string eventType) =>
        _registrations.Values.Where(r => r.Msn == msn && r.Events.Contains(eventType)).ToList();
}
