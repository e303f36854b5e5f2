using Microsoft.Azure.Functions.Worker;

namespace VendingFunctions.Http;

/// <summary>
/// The invocation's context with another <see cref="CancellationToken"/>: everything else (bindings, features, items,
/// services, the invocation result) is the original's, so what the function and the later pipeline steps set is seen
/// by the steps before. Made by <see cref="HttpPipelineMiddleware"/>.
/// </summary>
public sealed class CancellationScopedFunctionContext(FunctionContext inner, CancellationToken cancellationToken) : FunctionContext
{
    public override string InvocationId => inner.InvocationId;

    public override string FunctionId => inner.FunctionId;

    public override TraceContext TraceContext => inner.TraceContext;

    public override BindingContext BindingContext => inner.BindingContext;

    public override RetryContext RetryContext => inner.RetryContext;

    public override IServiceProvider InstanceServices
    {
        get => inner.InstanceServices;
        set => inner.InstanceServices = value;
    }

    public override FunctionDefinition FunctionDefinition => inner.FunctionDefinition;

    public override IDictionary<object, object> Items
    {
        get => inner.Items;
        set => inner.Items = value;
    }

    public override IInvocationFeatures Features => inner.Features;

    public override CancellationToken CancellationToken => cancellationToken;
}
