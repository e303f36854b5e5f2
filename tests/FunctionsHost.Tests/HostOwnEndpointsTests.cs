using System.Net;
using FunctionsHost.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionsHost.Tests;

/// <summary>What the host serves beside the functions, as the local stand-ins for what Azure has elsewhere: the API
/// document and its reference (offline), the kiosk's static files; nothing of it is a function route.</summary>
public sealed class HostOwnEndpointsTests : IAsyncLifetime
{
    private HostStack _stack = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _stack = await HostStack.StartAsync();
        _client = _stack.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _stack.DisposeAsync();
    }

    [Fact]
    public async Task It_serves_the_api_document_as_it_is_in_the_repository()
    {
        using var response = await _client.GetAsync("api/docs/openapi.yaml");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/yaml", response.Content.Headers.ContentType?.MediaType);
        var served = await response.Content.ReadAsStringAsync();
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Vending.Testing.Azurite.RepositoryRoot(), "docs", "openapi.yaml")), served);
        Assert.StartsWith("openapi: 3.1", served, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_interactive_reference_loads_the_document_and_its_script_from_the_host_alone()
    {
        var page = await _client.GetStringAsync("api/docs");

        Assert.Contains("\"url\":\"api/docs/openapi.yaml\"", page, StringComparison.Ordinal); // resolved by the page against its origin
        // Offline: every script the page loads comes from the host itself, and no web font is pulled from a CDN.
        var scripts = System.Text.RegularExpressions.Regex.Matches(page, "<script[^>]*src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, src => Assert.DoesNotMatch("^(https?:)?//", src));
        Assert.DoesNotContain("fonts.", page, StringComparison.Ordinal);
        foreach (var src in scripts)
        {
            using var script = await _client.GetAsync(new Uri(new Uri(_client.BaseAddress!, "api/docs/"), src));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            Assert.Contains("javascript", script.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }

        // The reference itself (megabytes of bundled JavaScript), not a loader that would fetch it from a CDN.
        var bundle = await _client.GetByteArrayAsync("api/docs/scalar.js");
        Assert.True(bundle.Length > 1_000_000, $"scalar.js is {bundle.Length} bytes");
    }

    [Fact]
    public async Task It_serves_the_kiosk_as_it_is_in_the_repository()
    {
        var kiosk = Path.Combine(Vending.Testing.Azurite.RepositoryRoot(), "tools", "FunctionsHost", "wwwroot", "kiosk");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(kiosk, "index.html")), await _client.GetStringAsync("kiosk/"));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(kiosk, "kiosk.js")), await _client.GetStringAsync("kiosk/kiosk.js"));
    }

    // (A raw %00 never gets this far: Kestrel itself refuses a NUL in the path with 400, here as in Azure.)
    [Theory]
    [InlineData("api/payments/%2500%2500%2500%2500")]
    [InlineData("api/payments/%2500/cancel")]
    [InlineData("api/payments/%252F..%252F")]
    [InlineData("api/operator/machines/%2F..%2F/disable")]
    public async Task A_hostile_path_is_answered_as_a_problem_never_a_5xx(string path)
    {
        using var get = await _client.GetAsync(path);
        using var post = await _client.PostAsync(path, null);

        foreach (var response in new[] { get, post })
        {
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{response.RequestMessage!.Method} {path}: {(int)response.StatusCode}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                $"{response.RequestMessage!.Method} {path}: {(int)response.StatusCode} {response.Headers} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public void Its_own_endpoints_are_only_the_api_document_and_its_reference_and_it_listens_on_loopback()
    {
        var own = _stack.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HostOwnEndpoint>() is not null)
            .Select(e => e.RoutePattern.RawText!)
            .ToList();

        Assert.Contains("/api/docs/openapi.yaml", own);
        Assert.All(own, route => Assert.StartsWith("/api/docs", route, StringComparison.Ordinal));
        // None of them is a function route: the Function App in Azure serves no document.
        Assert.DoesNotContain(_stack.Host.Functions, f => f.Route is not null && f.Route.StartsWith("docs", StringComparison.Ordinal));
        Assert.Equal("127.0.0.1", _stack.BaseUrl.Host);
    }
}
