using System.Net;
using System.Text.Json;

namespace FunctionsHost.Tests;

/// <summary>What the Functions SDK wrote into functions.metadata (what Azure serves and triggers) is exactly what the
/// host serves and drives after the worker reported its functions: routes, methods, auth levels, queues and timers.</summary>
public sealed class FunctionsMetadataParityTests
{
    private sealed record Trigger(string Function, string Type, string? Route, IReadOnlyList<string> Methods, string? AuthLevel, string? QueueName, string? Connection, string? Schedule);

    private static List<Trigger> Triggers()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(HostStack.FunctionAppPath, "functions.metadata")));
        return document.RootElement.EnumerateArray()
            .SelectMany(function => function.GetProperty("bindings").EnumerateArray()
                .Where(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))
                .Select(b => new Trigger(
                    function.GetProperty("name").GetString()!,
                    b.GetProperty("type").GetString()!,
                    b.TryGetProperty("route", out var route) ? route.GetString() : null,
                    b.TryGetProperty("methods", out var methods) ? methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToList() : [],
                    b.TryGetProperty("authLevel", out var auth) ? auth.GetString() : null,
                    b.TryGetProperty("queueName", out var queue) ? queue.GetString() : null,
                    b.TryGetProperty("connection", out var connection) ? connection.GetString() : null,
                    b.TryGetProperty("schedule", out var schedule) ? schedule.GetString() : null)))
            .ToList();
    }

    [Fact]
    public async Task Host_serves_every_route_with_its_methods_and_auth_level_and_drives_every_queue_and_timer()
    {
        var triggers = Triggers();
        Assert.Equal(triggers.Count, triggers.Count(t => t.Type is "httpTrigger" or "queueTrigger" or "timerTrigger"));
        await using var stack = await HostStack.StartAsync();

        Assert.Equal(
            triggers.Where(t => t.Type == "httpTrigger").Select(t => $"{t.Function} {string.Join(",", t.Methods.Order())} {t.Route} {t.AuthLevel}").Order(),
            stack.Host.Functions.Where(f => f.IsHttp).Select(f => $"{f.Name} {string.Join(",", f.Methods.Order())} {f.Route} {f.AuthLevel}").Order());
        Assert.Equal(
            triggers.Where(t => t.Type == "queueTrigger").Select(t => $"queue {t.Function} {t.QueueName} {t.Connection}")
                .Concat(triggers.Where(t => t.Type == "timerTrigger").Select(t => $"timer {t.Function} {t.Schedule}")).Order(),
            stack.Host.DrivenTriggers.Order());

        // Each route answers only its methods, and a Function-level route only with the key; nothing else is served.
        using var anonymous = stack.Client();
        foreach (var http in triggers.Where(t => t.Type == "httpTrigger"))
        {
            var path = "api/" + http.Route!.Replace("{reference}", "VND-none", StringComparison.Ordinal).Replace("{machineId}", "no-such-machine", StringComparison.Ordinal);
            var wrongMethod = HttpMethod.Patch; // no function of ours takes PATCH on any route
            using var refusedMethod = await anonymous.SendAsync(new HttpRequestMessage(wrongMethod, path));
            Assert.True(refusedMethod.StatusCode == HttpStatusCode.MethodNotAllowed, $"{wrongMethod} {path}: {(int)refusedMethod.StatusCode}");

            if (http.AuthLevel == "Function")
            {
                using var noKey = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(http.Methods[0]), path));
                Assert.True(noKey.StatusCode == HttpStatusCode.Unauthorized, $"{http.Methods[0]} {path} without key: {(int)noKey.StatusCode}");
                using var wrongKey = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(http.Methods[0]), path + "?code=not-the-key"));
                Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
            }
        }

        using var unknown = await anonymous.GetAsync("api/no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }
}
