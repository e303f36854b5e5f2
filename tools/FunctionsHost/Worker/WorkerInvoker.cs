using System.Diagnostics;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Worker;

/// <summary>Sends one InvocationRequest to the ready worker and waits for its InvocationResponse.</summary>
internal sealed class WorkerInvoker(WorkerSupervisor supervisor, TimeSpan unavailableWait)
{
    /// <summary>Starts an invocation of <paramref name="function"/>; the caller may do its part (the HTTP forward) while it runs.
    /// Throws <see cref="WorkerUnavailableException"/> when no worker is ready in time.</summary>
    /// <param name="dead">A worker found dead: wait for another one.</param>
    public async Task<(ReadyWorker Worker, string InvocationId, Task<InvocationResponse> Response)> StartAsync(
        WorkerFunction function, Action<InvocationRequest> fill, ReadyWorker? dead, CancellationToken cancellationToken)
    {
        var worker = await supervisor.WaitReadyAsync(unavailableWait, cancellationToken, dead);
        var request = new InvocationRequest
        {
            InvocationId = Guid.NewGuid().ToString(),
            FunctionId = worker.FunctionIds[function.Name],
            // The worker requires a trace context; the caller's (e.g. the HTTP request's) continues into the function.
            TraceContext = new RpcTraceContext
            {
                TraceParent = Activity.Current?.Id ?? $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00",
                TraceState = Activity.Current?.TraceStateString ?? "",
            },
        };
        fill(request);
        var response = worker.Channel.RequestAsync("invocation:" + request.InvocationId, new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            InvocationRequest = request,
        }, cancellationToken);
        return (worker, request.InvocationId, Unwrap(response));
    }

    /// <summary>Waits (up to the configured wait) until a worker is ready.</summary>
    public Task WaitReadyAsync(CancellationToken cancellationToken) => supervisor.WaitReadyAsync(unavailableWait, cancellationToken);

    /// <summary>Runs an invocation to its end; a failed one throws with the worker's exception text.</summary>
    public async Task InvokeAsync(WorkerFunction function, Action<InvocationRequest> fill, CancellationToken cancellationToken)
    {
        var (_, _, response) = await StartAsync(function, fill, dead: null, cancellationToken);
        var result = await response;
        if (result.Result.Status != StatusResult.Types.Status.Success)
        {
            throw new FunctionInvocationException(function.Name, result.Result.Exception?.Message ?? result.Result.Result);
        }
    }

    private static async Task<InvocationResponse> Unwrap(Task<StreamingMessage> message) => (await message).InvocationResponse;
}

/// <summary>The function ran and failed; <see cref="Exception.Message"/> is the worker's account of it.</summary>
public sealed class FunctionInvocationException(string function, string workerMessage)
    : Exception($"Function {function} failed in the worker: {workerMessage}");
