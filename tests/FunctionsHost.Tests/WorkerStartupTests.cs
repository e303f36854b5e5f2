using System.Net;
using System.Text.Json;
using FunctionsHost.Worker;

namespace FunctionsHost.Tests;

/// <summary>The real worker starts under the host, loads what the Functions SDK indexed, and answers through its own
/// ASP.NET Core pipeline; a worker that cannot start is reported with its reason instead of hanging.</summary>
public sealed class WorkerStartupTests
{
    [Fact]
    public async Task Worker_loads_every_function_in_functions_metadata_and_health_answers_through_it()
    {
        await using var stack = await HostStack.StartAsync();

        using var metadata = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(HostStack.FunctionAppPath, "functions.metadata")));
        var expected = metadata.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Order().ToList();
        Assert.Equal(expected, stack.Host.Functions.Select(f => f.Name).Order().ToList());
        Assert.NotNull(stack.Host.WorkerProcessId);
        Assert.NotEqual(Environment.ProcessId, stack.Host.WorkerProcessId);

        using var client = stack.Client();
        using var health = await client.GetAsync("api/health");
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"{(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}{Environment.NewLine}{stack.ErrorLogs()}");

        // Operator routes need the function key: refused without, answered by the worker with it.
        using var refused = await client.GetAsync("api/operator/merchants");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using var operatorClient = stack.Client(operatorKey: true);
        using var merchants = await operatorClient.GetAsync("api/operator/merchants");
        Assert.Equal(HttpStatusCode.OK, merchants.StatusCode);
        Assert.Contains("vippsno", await merchants.Content.ReadAsStringAsync());

        // The key may also come as ?code=: accepted, and never written to a log (the worker's request log omits the query).
        using var byCode = await client.GetAsync($"api/operator/merchants?code={HostStack.FunctionKey}");
        Assert.Equal(HttpStatusCode.OK, byCode.StatusCode);
        Assert.DoesNotContain(stack.Logs, line => line.Contains(HostStack.FunctionKey, StringComparison.Ordinal));

        // The Function App's worker middleware logs each HTTP call (it runs in the worker, not in the host).
        Assert.Contains(stack.Logs, line => line.Contains("HTTP GET /api/health ran function Health: 200", StringComparison.Ordinal));
        Assert.Contains(stack.Logs, line => line.Contains("HTTP GET /api/operator/merchants ran function ListMerchants: 200", StringComparison.Ordinal));

        // The worker's RpcLog reaches the host's loggers.
        Assert.Contains(stack.Logs, line => line.Contains("loaded", StringComparison.Ordinal) && line.Contains("functions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_required_setting_fails_the_start_with_the_settings_name()
    {
        var failure = await Assert.ThrowsAsync<WorkerStartupException>(() =>
            HostStack.StartAsync(settings => settings["Vipps:BaseUrl"] = ""));
        Assert.Contains("BaseUrl", failure.Message, StringComparison.Ordinal);
        Assert.Contains("exited", failure.Message, StringComparison.Ordinal);
    }
}
