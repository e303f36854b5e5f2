using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace LocalRunner;

/// <summary>Calls a function method as the worker does: a new instance per invocation from DI, arguments bound by the caller.</summary>
internal static class FunctionInvoker
{
    public static async Task<object?> InvokeAsync(IServiceProvider services, MethodInfo method, object?[] arguments)
    {
        var instance = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        try
        {
            var result = method.Invoke(instance, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
            if (result is Task task)
            {
                await task.ConfigureAwait(false);
                // The declared type decides: an async Task method's runtime type is a Task<VoidTaskResult>.
                return method.ReturnType.IsGenericType ? method.ReturnType.GetProperty(nameof(Task<object>.Result))!.GetValue(task) : null;
            }

            return result;
        }
        finally
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
