using Azure;
using Azure.Identity;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using FunctionsHost.Configuration;
using Microsoft.Extensions.Logging;

namespace FunctionsHost.Triggers;

/// <summary>
/// Runs one queue-triggered function the way the Functions queue listener does: polls with a back-off up to
/// host.json's <c>maxPollingInterval</c>, hides a message while it runs, deletes it on success, makes it visible again
/// after <c>visibilityTimeout</c> on failure, and after <c>maxDequeueCount</c> attempts moves it to
/// <c>{queue}-poison</c> (which a poison-queue function, if any, then drains like any other queue).
/// How the function is called is the subclass's (<see cref="WorkerQueueListener"/>: through the worker).
/// </summary>
internal abstract class QueueListener(
    string functionName,
    string queueName,
    string connection,
    QueueHostSettings settings,
    IConfiguration configuration,
    ILogger logger) : BackgroundService
{
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    // Long enough for any command; a host that dies mid-message lets it reappear after this.
    private static readonly TimeSpan ProcessingVisibility = TimeSpan.FromMinutes(5);

    /// <summary>Runs the function on one message; an exception is a failed attempt.</summary>
    protected abstract Task InvokeAsync(QueueMessage message, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var service = CreateServiceClient();
        var queue = service.GetQueueClient(queueName);
        var poison = service.GetQueueClient(queueName + "-poison");
        var delay = MinPollingInterval;
        var created = false;
        logger.LogInformation("Function {Function} polls queue {Queue}", functionName, queueName);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!created)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                    created = true;
                }

                // Not cancelled by the stop: a receive cancelled after the queue had handed messages out would leave
                // them invisible for the whole processing visibility (5 min), though nobody works on them.
                QueueMessage[] messages = await queue.ReceiveMessagesAsync(settings.BatchSize, ProcessingVisibility, CancellationToken.None);
                if (stoppingToken.IsCancellationRequested)
                {
                    await Task.WhenAll(messages.Select(message => queue.UpdateMessageAsync(
                        message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None)));
                    break;
                }

                if (messages.Length > 0)
                {
                    delay = MinPollingInterval;
                    await Task.WhenAll(messages.Select(message => ProcessAsync(queue, poison, message, stoppingToken)));
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is RequestFailedException or AggregateException or HttpRequestException or AuthenticationFailedException)
            {
                logger.LogWarning(exception, "Polling queue {Queue} failed; retrying in {Delay}", queueName, delay);
            }

            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(settings.MaxPollingInterval.Ticks, MinPollingInterval.Ticks)));
        }
    }

    private async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        try
        {
            if (message.DequeueCount > settings.MaxDequeueCount)
            {
                // Already tried often enough (a host stopped mid-message): do not run it again.
                await MoveToPoisonAsync(queue, poison, message);
                return;
            }

            Exception? failure = null;
            try
            {
                await InvokeAsync(message, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: hand the message back at once rather than after the processing visibility.
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: CancellationToken.None);
                return;
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            if (failure is null)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                return;
            }

            logger.LogError(failure, "Function {Function} failed on message {MessageId} (attempt {DequeueCount} of {MaxDequeueCount})",
                functionName, message.MessageId, message.DequeueCount, settings.MaxDequeueCount);
            if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (RequestFailedException exception)
        {
            // E.g. the pop receipt expired because the function ran longer than the processing visibility:
            // the message is someone else's now.
            logger.LogWarning(exception, "Queue {Queue} message {MessageId} could not be settled", queueName, message.MessageId);
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        await poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
        logger.LogError("Message {MessageId} of queue {Queue} moved to {PoisonQueue} after {DequeueCount} attempts",
            message.MessageId, queueName, poison.Name, message.DequeueCount);
    }

    /// <summary>The connection setting as the Functions host reads it: a connection string, or the identity-based
    /// <c>{name}__queueServiceUri</c> form.</summary>
    private QueueServiceClient CreateServiceClient()
    {
        var options = new QueueClientOptions
        {
            MessageEncoding = settings.Base64 ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None,
        };
        var connectionString = configuration[connection] ?? configuration["AzureWebJobs" + connection] ?? configuration.GetConnectionString(connection);
        if (!string.IsNullOrEmpty(connectionString))
        {
            return new QueueServiceClient(connectionString, options);
        }

        if (configuration[$"{connection}:queueServiceUri"] is { Length: > 0 } serviceUri)
        {
            return new QueueServiceClient(new Uri(serviceUri), new DefaultAzureCredential(), options);
        }

        throw new InvalidOperationException($"Function {functionName}: the connection setting '{connection}' is not configured.");
    }
}
