using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging;

namespace Vending.Core.Events;

/// <summary>Publishes payment events to the Service Bus topic (<c>Events:TopicName</c>).</summary>
public sealed class ServiceBusPaymentEventPublisher(ServiceBusSender sender, ILogger<ServiceBusPaymentEventPublisher> logger)
    : IPaymentEventPublisher
{
    public const string MachineIdProperty = "machineId";
    public const string MerchantIdProperty = "merchantId";
    public const string SequenceProperty = "sequence";

    public async Task PublishAsync(OutboxEvent outboxEvent, CancellationToken cancellationToken)
    {
        await sender.SendMessageAsync(ToMessage(outboxEvent), cancellationToken);
        logger.LogInformation(
            "Payment event {EventId} ({EventType}) for sale {Reference} sent to topic {Topic}",
            outboxEvent.EventId, outboxEvent.Type, outboxEvent.Reference, sender.EntityPath);
    }

    public static ServiceBusMessage ToMessage(OutboxEvent outboxEvent)
    {
        var message = new ServiceBusMessage(BinaryData.FromBytes(PaymentEventMessage.ToJsonBytes(outboxEvent)))
        {
            // Stable across re-sends: the topic's duplicate detection drops a second send of the same event.
            MessageId = outboxEvent.EventId,
            Subject = outboxEvent.Type,
            // Session-aware subscribers receive one sale's events in order, one sale at a time.
            SessionId = outboxEvent.Reference,
            ContentType = PaymentEventMessage.ContentType,
        };
        // Properties let subscriptions filter (SQL filters) without parsing the body.
        message.ApplicationProperties[MachineIdProperty] = outboxEvent.MachineId;
        message.ApplicationProperties[MerchantIdProperty] = outboxEvent.MerchantId;
        message.ApplicationProperties[SequenceProperty] = outboxEvent.Sequence;
        return message;
    }
}
