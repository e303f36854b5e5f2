using System.Text.Json.Serialization;

namespace VippsSimulator.Webhooks;

[JsonConverter(typeof(JsonStringEnumConverter<DeliveryStatus>))]
public enum DeliveryStatus
{
    /// <summary>Queued or being retried.</summary>
    Pending,
    /// <summary>A 2xx came back.</summary>
    Delivered,
    /// <summary>A dropped-webhook fault: never sent.</summary>
    Dropped,
    /// <summary>Every attempt failed up to <c>Webhooks:MaxAttempts</c>.</summary>
    Abandoned,
    /// <summary>The registration was deleted before delivery.</summary>
    Cancelled,
}

public sealed record DeliveryAttempt(DateTimeOffset At, int? StatusCode, string? Error, double DurationMilliseconds);

/// <summary>One event on its way to one registration (a duplicate delivery has its own entry, marked so).</summary>
public sealed class WebhookDelivery
{
    public required Guid Id { get; init; }
    public required Guid RegistrationId { get; init; }
    public required string Url { get; init; }
    public required string Msn { get; init; }
    public required string Reference { get; init; }
    public required string EventType { get; init; }
    public required string PspReference { get; init; }
    public required long Sequence { get; init; }
    public required string Payload { get; init; }
    public required DateTimeOffset EnqueuedAt { get; init; }
    public bool Duplicate { get; init; }
    public DeliveryStatus Status { get; set; } = DeliveryStatus.Pending;
    public List<DeliveryAttempt> Attempts { get; } = new();
}

/// <summary>What the webhook sender really did, for <c>GET /_sim/webhooks/deliveries</c> and direct assertions.</summary>
public sealed class WebhookDeliveryLog
{
    private readonly List<WebhookDelivery> _deliveries = new();

    public void Add(WebhookDelivery delivery)
    {
        lock (_deliveries) _deliveries.Add(delivery);
    }

    public void Update(WebhookDelivery delivery, Action<WebhookDelivery> change)
    {
        lock (_deliveries) change(delivery);
    }

    /// <summary>Copies in enqueue order, optionally for one reference.</summary>
    public IReadOnlyList<WebhookDeliveryView> Snapshot(string? reference = null)
    {
        lock (_deliveries)
        {
            return _deliveries.Where(d => reference is null || d.Reference == reference)
                .Select(d => new WebhookDeliveryView(d.Id, d.RegistrationId, d.Url, d.Msn, d.Reference, d.EventType, d.PspReference, d.Sequence,
                    d.Duplicate, d.Status, d.EnqueuedAt, d.Attempts.ToList(), d.Payload))
                .ToList();
        }
    }

    public void Clear()
    {
        lock (_deliveries) _deliveries.Clear();
    }
}

public sealed record WebhookDeliveryView(
    Guid Id, Guid RegistrationId, string Url, string Msn, string Reference, string EventType, string PspReference, long Sequence,
    bool Duplicate, DeliveryStatus Status, DateTimeOffset EnqueuedAt, IReadOnlyList<DeliveryAttempt> Attempts, string Payload);
