using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Worker;

/// <summary>The gRPC endpoint the worker dials (<c>--functions-uri</c>): hands each event stream to the
/// <see cref="WorkerSupervisor"/>, which pairs it with the process it started by the worker id in StartStream.</summary>
internal sealed class FunctionRpcService(WorkerSupervisor supervisor) : FunctionRpc.FunctionRpcBase
{
    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.ContentCase != StreamingMessage.ContentOneofCase.StartStream)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, "The first message must be StartStream."));
        }

        await supervisor.AcceptStreamAsync(requestStream.Current.StartStream.WorkerId, requestStream, responseStream, context.CancellationToken);
    }
}
