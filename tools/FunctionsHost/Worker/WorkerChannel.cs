using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using MsgType = Microsoft.Azure.Functions.Worker.Grpc.Messages.StreamingMessage.ContentOneofCase;

namespace FunctionsHost.Worker;

/// <summary>
/// One worker's event stream: sends requests (one writer at a time, as gRPC requires), pairs each response with the
/// request that waits for it, and writes the worker's <c>RpcLog</c> messages to the host's loggers. When the stream
/// ends every waiting request fails with <see cref="WorkerUnavailableException"/>.
/// </summary>
internal sealed class WorkerChannel(IServerStreamWriter<StreamingMessage> writer, ILoggerFactory loggers, Action<string> errorLine)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _waiting = new(StringComparer.Ordinal);
    private volatile bool _closed;

    /// <summary>Sends <paramref name="message"/> and waits for the response that <paramref name="key"/> names.</summary>
    public async Task<StreamingMessage> RequestAsync(string key, StreamingMessage message, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiting.TryAdd(key, waiter))
        {
            throw new InvalidOperationException($"A request {key} is already waiting.");
        }

        try
        {
            if (_closed)
            {
                throw new WorkerUnavailableException("The worker's event stream is closed.");
            }

            await SendAsync(message, cancellationToken);
            return await waiter.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _waiting.TryRemove(key, out _);
        }
    }

    public async Task SendAsync(StreamingMessage message, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await writer.WriteAsync(message, cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or Grpc.Core.RpcException)
        {
            throw new WorkerUnavailableException($"The worker's event stream is closed: {exception.Message}");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads the stream until the worker closes it (or dies).</summary>
    public async Task ReadAsync(IAsyncStreamReader<StreamingMessage> reader, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.MoveNext(cancellationToken))
            {
                Dispatch(reader.Current);
            }
        }
        catch (Exception exception) when (exception is IOException or Grpc.Core.RpcException or OperationCanceledException or InvalidOperationException)
        {
            // The worker went away mid-stream: the same as the stream's end.
        }
        finally
        {
            Close();
        }
    }

    public void Close()
    {
        _closed = true;
        foreach (var (_, waiter) in _waiting)
        {
            waiter.TrySetException(new WorkerUnavailableException("The worker's event stream ended before it answered."));
        }
    }

    /// <summary>The key that pairs a response with its request.</summary>
    public static string KeyOf(StreamingMessage message) => message.ContentCase switch
    {
        MsgType.WorkerInitResponse => "init",
        MsgType.FunctionMetadataResponse => "metadata",
        MsgType.FunctionLoadResponse => "load:" + message.FunctionLoadResponse.FunctionId,
        MsgType.InvocationResponse => "invocation:" + message.InvocationResponse.InvocationId,
        MsgType.WorkerStatusResponse => "status:" + message.RequestId,
        _ => "",
    };

    private void Dispatch(StreamingMessage message)
    {
        if (message.ContentCase == MsgType.RpcLog)
        {
            Log(message.RpcLog);
            return;
        }

        var key = KeyOf(message);
        if (key.Length > 0 && _waiting.TryGetValue(key, out var waiter))
        {
            waiter.TrySetResult(message);
        }
    }

    private void Log(RpcLog log)
    {
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        var category = string.IsNullOrEmpty(log.Category) ? "Worker" : log.Category;
        var logger = loggers.CreateLogger(category);
        if (log.Exception is { } exception)
        {
            // The worker's own exception text, as a string: the type is not ours to rebuild.
            logger.Log(level, "{WorkerMessage} {WorkerException}", log.Message, $"{exception.Type}: {exception.Message}{Environment.NewLine}{exception.StackTrace}");
        }
        else
        {
            logger.Log(level, "{WorkerMessage}", log.Message);
        }

        if (level >= LogLevel.Error)
        {
            errorLine($"{category}: {log.Message} {log.Exception?.Message}".TrimEnd());
        }
    }
}
