using System.Reflection;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace LocalRunner;

/// <summary>An HTTP-triggered function: served at <c>/api/{Route}</c> for <see cref="Methods"/> (empty: any method).</summary>
public sealed record HttpFunction(string Name, string Route, IReadOnlyList<string> Methods, AuthorizationLevel AuthLevel, MethodInfo Method);

/// <summary>A queue-triggered function: <see cref="Connection"/> names the setting holding the storage connection.</summary>
public sealed record QueueFunction(string Name, string QueueName, string Connection, MethodInfo Method);

/// <summary>A timer-triggered function; <see cref="Schedule"/> as written in the attribute (may be <c>%Setting%</c>).</summary>
public sealed record TimerFunction(string Name, string Schedule, bool RunOnStartup, MethodInfo Method);

/// <summary>
/// The functions of a Function App assembly, found the way the Functions SDK finds them (public methods with
/// <see cref="FunctionAttribute"/>) and checked up front: a parameter the runner cannot bind fails the start with its
/// name, instead of failing the first request.
/// </summary>
public sealed class FunctionCatalog
{
    private FunctionCatalog(IReadOnlyList<HttpFunction> http, IReadOnlyList<QueueFunction> queues, IReadOnlyList<TimerFunction> timers)
    {
        Http = http;
        Queues = queues;
        Timers = timers;
    }

    public IReadOnlyList<HttpFunction> Http { get; }

    public IReadOnlyList<QueueFunction> Queues { get; }

    public IReadOnlyList<TimerFunction> Timers { get; }

    /// <summary>Queue trigger metadata the runner binds by parameter name, as the worker does from trigger metadata.</summary>
    internal static readonly IReadOnlyDictionary<string, Type[]> QueueMetadata = new Dictionary<string, Type[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["dequeueCount"] = [typeof(long), typeof(int)],
        ["id"] = [typeof(string)],
        ["messageId"] = [typeof(string)],
        ["popReceipt"] = [typeof(string)],
        ["insertionTime"] = [typeof(DateTimeOffset), typeof(DateTimeOffset?)],
        ["expirationTime"] = [typeof(DateTimeOffset), typeof(DateTimeOffset?)],
        ["nextVisibleTime"] = [typeof(DateTimeOffset), typeof(DateTimeOffset?)],
    };

    internal static readonly Type[] QueueMessageTypes = [typeof(string), typeof(BinaryData), typeof(byte[]), typeof(QueueMessage)];

    internal static readonly Type[] RouteValueTypes = [typeof(string), typeof(int), typeof(long), typeof(Guid), typeof(bool)];

    public static FunctionCatalog Load(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var http = new List<HttpFunction>();
        var queues = new List<QueueFunction>();
        var timers = new List<TimerFunction>();

        foreach (var type in assembly.GetExportedTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
                {
                    continue;
                }

                var parameters = method.GetParameters();
                if (Find<HttpTriggerAttribute>(parameters) is var (httpParameter, httpTrigger))
                {
                    var route = (httpTrigger.Route ?? function.Name).Trim('/');
                    var methods = (httpTrigger.Methods ?? []).Select(m => m.ToUpperInvariant()).ToList();
                    CheckParameters(function.Name, parameters, p => p == httpParameter
                        ? p.ParameterType == typeof(HttpRequest)
                        : RouteValueTypes.Contains(p.ParameterType) && route.Contains("{" + p.Name, StringComparison.OrdinalIgnoreCase));
                    http.Add(new HttpFunction(function.Name, route, methods, httpTrigger.AuthLevel, method));
                }
                else if (Find<QueueTriggerAttribute>(parameters) is var (queueParameter, queueTrigger))
                {
                    CheckParameters(function.Name, parameters, p => p == queueParameter
                        ? QueueMessageTypes.Contains(p.ParameterType)
                        : QueueMetadata.TryGetValue(p.Name!, out var types) && types.Contains(p.ParameterType));
                    queues.Add(new QueueFunction(function.Name, queueTrigger.QueueName, queueTrigger.Connection ?? "AzureWebJobsStorage", method));
                }
                else if (Find<TimerTriggerAttribute>(parameters) is var (timerParameter, timerTrigger))
                {
                    CheckParameters(function.Name, parameters, p => p == timerParameter && p.ParameterType == typeof(TimerInfo));
                    timers.Add(new TimerFunction(function.Name, timerTrigger.Schedule, timerTrigger.RunOnStartup, method));
                }
                else
                {
                    throw new InvalidOperationException($"Function {function.Name} has a trigger the local runner does not run (HTTP, queue and timer only).");
                }
            }
        }

        return new FunctionCatalog(http, queues, timers);
    }

    private static (ParameterInfo, T)? Find<T>(ParameterInfo[] parameters) where T : Attribute =>
        parameters.Select(p => (p, p.GetCustomAttribute<T>())).Where(x => x.Item2 is not null).Select(x => ((ParameterInfo, T)?)(x.p, x.Item2!)).FirstOrDefault();

    private static void CheckParameters(string function, ParameterInfo[] parameters, Func<ParameterInfo, bool> bindable)
    {
        foreach (var parameter in parameters)
        {
            if (parameter.ParameterType != typeof(CancellationToken) && !bindable(parameter))
            {
                throw new InvalidOperationException(
                    $"The local runner cannot bind parameter '{parameter.Name}' ({parameter.ParameterType.Name}) of function {function}.");
            }
        }
    }
}
