namespace VippsSimulator.Payments;

/// <summary>Receives every payment event as it is logged (the webhook dispatcher). Called under the payment's lock, so it must not block.</summary>
public interface IPaymentEventSink
{
    void Publish(PaymentEvent paymentEvent);
}
