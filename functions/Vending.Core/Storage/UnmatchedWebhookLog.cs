using Azure.Data.Tables;
using Vending.Core.Sales;

namespace Vending.Core.Storage;

/// <summary>The <c>UnmatchedWebhooks</c> table: verified webhooks for references we do not know. Recorded for
/// operators, no effect. Partition = merchant; a repeat overwrites its own row.</summary>
public sealed class UnmatchedWebhookLog(VendingTables tables, TimeProvider time) : IUnmatchedWebhookLog
{
    public async Task RecordAsync(string merchantId, string reference, string eventName, string pspReference, long amount, DateTimeOffset eventTime, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.UnmatchedWebhooks, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(TableKeys.Safe(merchantId), TableKeys.Safe($"{reference}-{eventName}-{pspReference}"))
        {
            ["Reference"] = reference,
            ["EventName"] = eventName,
            ["PspReference"] = pspReference,
            ["Amount"] = amount,
            ["EventTime"] = eventTime.ToUniversalTime(),
            ["ReceivedAt"] = time.GetUtcNow(),
        }, TableUpdateMode.Replace, cancellationToken);
    }
}
