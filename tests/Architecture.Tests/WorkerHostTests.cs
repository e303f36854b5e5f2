using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VendingFunctions;
using VendingFunctions.Http;
using Vending.Testing;

namespace Architecture.Tests;

/// <summary>
/// The real isolated-worker host (<c>FunctionsApplication.CreateBuilder</c>), set up by the same
/// <see cref="FunctionAppHost.Configure"/> Program.cs calls, built with every registration validated
/// (<c>ValidateOnBuild</c>, <c>ValidateScopes</c>); then every function class is created as the worker creates it
/// (from the invocation's scope) and the middleware is resolved. A missing or mis-scoped registration that only Azure
/// would have hit fails here. Nothing is started: no network, no gRPC.
/// </summary>
public sealed class WorkerHostTests
{
    private static readonly Dictionary<string, string?> Settings = MinimalAppSettings.Create();

    /// <summary>Every class of the Function App with a [Function] method: what the worker will instantiate.</summary>
    public static IReadOnlyList<Type> FunctionClasses() => typeof(FunctionAppHost).Assembly.GetTypes()
        .Where(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Any(method => method.GetCustomAttribute<FunctionAttribute>() is not null))
        .OrderBy(type => type.FullName, StringComparer.Ordinal)
        .ToList();

    [Fact]
    public void The_worker_host_builds_validated_and_creates_every_function_class_and_the_middleware()
    {
        using var host = BuildWorkerHost();

        var functions = FunctionClasses();
        Assert.True(functions.Count >= 14, $"found only {functions.Count} function classes");
        using var scope = host.Services.CreateScope();
        var created = functions.Select(type => ActivatorUtilities.CreateInstance(scope.ServiceProvider, type)).ToList();
        Assert.All(created.Zip(functions), pair => Assert.IsType(pair.Second, pair.First));

        // GetService, not GetRequiredService: null (an unregistered middleware) is what this must catch.
        Assert.NotNull(scope.ServiceProvider.GetService<HttpPipelineMiddleware>());
        // Options are bound and valid as the host's start would check them.
        host.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void A_function_class_whose_dependency_is_not_registered_fails_here()
    {
        using var host = BuildWorkerHost();
        using var scope = host.Services.CreateScope();

        var failure = Assert.Throws<InvalidOperationException>(() => ActivatorUtilities.CreateInstance<NeedsWhatNobodyRegisters>(scope.ServiceProvider));
        Assert.Contains(nameof(INobodyRegistersThis), failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_singleton_that_captures_a_scoped_service_fails_the_build()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(Settings);
        FunctionAppHost.Configure(builder);
        // A singleton over the per-invocation HTTP adapter: the kind of lifetime error ValidateScopes exists for.
        builder.Services.AddSingleton<CapturesScoped>();
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));

        var failure = Assert.ThrowsAny<Exception>(() => builder.Build());
        Assert.Contains(nameof(CapturesScoped), failure.ToString(), StringComparison.Ordinal);
    }

    private static IHost BuildWorkerHost()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(Settings);
        FunctionAppHost.Configure(builder);
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        return builder.Build();
    }

    public interface INobodyRegistersThis;

    public sealed class NeedsWhatNobodyRegisters(INobodyRegistersThis missing)
    {
        public INobodyRegistersThis Missing { get; } = missing;
    }

    public sealed class CapturesScoped(Vending.Core.Http.HttpApi api)
    {
        public Vending.Core.Http.HttpApi Api { get; } = api;
    }
}
