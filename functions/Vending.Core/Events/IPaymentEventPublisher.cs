namespace Vending.Core.Events;

/// <summary>Delivers one payment event to its consumers. Throws when delivery is not certain, so the dispatcher
/// leaves the outbox row pending and stops (keeping the sale's events in order). Re-sending the same event must be
/// harmless: the event id is stable.</summary>
public interface IPaymentEventPublisher
{
    Task PublishAsync(OutboxEvent outboxEvent, CancellationToken cancellationToken);
}
