using System.Text.Json;
using Azure.Storage.Queues.Models;
using FunctionsHost.Worker;
using FunctionsHost.Configuration;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Triggers;

/// <summary>A queue-triggered function run through the worker, with the trigger metadata the Functions queue extension
/// gives (QueueTrigger, DequeueCount, Id, PopReceipt, InsertionTime, ExpirationTime, NextVisibleTime).</summary>
internal sealed class WorkerQueueListener(
    WorkerFunction function,
    WorkerInvoker invoker,
    QueueHostSettings settings,
    IConfiguration configuration,
    ILogger logger) : QueueListener(function.Name, function.QueueName!, function.Connection!, settings, configuration, logger)
{
    public WorkerFunction Function => function;

    protected override Task InvokeAsync(QueueMessage message, CancellationToken cancellationToken) =>
        invoker.InvokeAsync(function, request =>
        {
            var body = message.Body.ToString();
            request.InputData.Add(new ParameterBinding { Name = function.TriggerBindingName, Data = new TypedData { String = body } });
            request.TriggerMetadata["QueueTrigger"] = new TypedData { String = body };
            request.TriggerMetadata["DequeueCount"] = new TypedData { Json = message.DequeueCount.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            request.TriggerMetadata["Id"] = new TypedData { String = message.MessageId };
            request.TriggerMetadata["PopReceipt"] = new TypedData { String = message.PopReceipt };
            AddTime(request, "InsertionTime", message.InsertedOn);
            AddTime(request, "ExpirationTime", message.ExpiresOn);
            AddTime(request, "NextVisibleTime", message.NextVisibleOn);
        }, cancellationToken);

    private static void AddTime(InvocationRequest request, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            request.TriggerMetadata[name] = new TypedData { Json = JsonSerializer.Serialize(time) };
        }
    }
}
