using Azure.Storage.Queues.Models;

namespace LocalRunner;

/// <summary>A queue-triggered function called in process, on its own DI scope (the polling rules are <see cref="QueueListener"/>'s).</summary>
internal sealed class QueueTriggerService(
    QueueFunction function,
    QueueHostSettings settings,
    IConfiguration configuration,
    IServiceScopeFactory scopes,
    ILogger<QueueTriggerService> logger) : QueueListener(function.Name, function.QueueName, function.Connection, settings, configuration, logger)
{
    public QueueFunction Function => function;

    protected override async Task InvokeAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await FunctionInvoker.InvokeAsync(scope.ServiceProvider, function.Method, BindArguments(message, cancellationToken));
    }

    private object?[] BindArguments(QueueMessage message, CancellationToken cancellationToken) =>
        function.Method.GetParameters().Select(parameter => parameter.ParameterType switch
        {
            var t when t == typeof(CancellationToken) => cancellationToken,
            var t when t == typeof(QueueMessage) => message,
            var t when t == typeof(BinaryData) => message.Body,
            var t when t == typeof(byte[]) => message.Body.ToArray(),
            _ => parameter.Name!.ToUpperInvariant() switch
            {
                "DEQUEUECOUNT" => parameter.ParameterType == typeof(int) ? (object)(int)message.DequeueCount : message.DequeueCount,
                "ID" or "MESSAGEID" => message.MessageId,
                "POPRECEIPT" => message.PopReceipt,
                "INSERTIONTIME" => message.InsertedOn ?? default,
                "EXPIRATIONTIME" => message.ExpiresOn ?? default,
                "NEXTVISIBLETIME" => message.NextVisibleOn ?? default,
                _ => (object?)message.Body.ToString(),
            },
        }).ToArray();
}
