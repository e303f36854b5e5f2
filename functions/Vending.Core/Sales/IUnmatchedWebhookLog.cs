namespace Vending.Core.Sales;

public interface IUnmatchedWebhookLog
{
    Task RecordAsync(string merchantId, string reference, string eventName, string pspReference, long amount, DateTimeOffset eventTime, CancellationToken cancellationToken);
}
