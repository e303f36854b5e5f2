using Azure.Messaging.ServiceBus;
using Moq;

namespace Vending.Core.Tests.Events;

/// <summary>A Moq'd <see cref="ServiceBusSender"/> that keeps every message it accepted, and can refuse chosen sends
/// the way the service does (a transient <see cref="ServiceBusException"/>).</summary>
internal sealed class RecordingSender
{
    private readonly List<string> _attempts = [];
    private readonly List<ServiceBusMessage> _accepted = [];
    private readonly Lock _lock = new();

    public RecordingSender(string topic = "payment-events")
    {
        Mock.SetupGet(s => s.EntityPath).Returns(topic);
        Mock.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .Returns<ServiceBusMessage, CancellationToken>((message, _) =>
            {
                lock (_lock)
                {
                    _attempts.Add(message.MessageId);
                    if (Refuse(message))
                    {
                        throw new ServiceBusException("The namespace is busy", ServiceBusFailureReason.ServiceBusy);
                    }

                    _accepted.Add(message);
                }

                return Task.CompletedTask;
            });
    }

    public Mock<ServiceBusSender> Mock { get; } = new();

    /// <summary>Decides per send whether the service refuses it; accepts everything unless set.</summary>
    public Func<ServiceBusMessage, bool> Refuse { get; set; } = _ => false;

    public IReadOnlyList<ServiceBusMessage> Accepted
    {
        get
        {
            lock (_lock)
            {
                return [.. _accepted];
            }
        }
    }

    public IReadOnlyList<string> Attempts
    {
        get
        {
            lock (_lock)
            {
                return [.. _attempts];
            }
        }
    }
}
