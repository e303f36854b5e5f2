using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LocalRunner;
using Moq;
using Vending.Core.Machines;
using Vending.Core.Sales;

namespace VendingFunctions.Tests;

/// <summary>The runner over real HTTP (Kestrel on 127.0.0.1, free port): function keys, route binding, static files.</summary>
public sealed class LocalRunnerHttpTests : IAsyncLifetime
{
    private const string ProvisionBody = """{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK"}""";

    private readonly Mock<IMachineDirectory> _directory = Fakes.Directory();
    private readonly Mock<ISaleService> _sales = new(MockBehavior.Strict);
    private readonly HttpClient _client = new();
    private LocalRunnerApp _runner = null!;

    public async Task InitializeAsync()
    {
        _directory.Setup(d => d.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineCredentials(Fakes.Machine("lobby-1"), "lobby-1.generated-secret"));
        _runner = await LocalRunnerApp.StartAsync(RunnerSettings.Create(services =>
        {
            services.AddSingleton(_directory.Object);
            services.AddSingleton(_sales.Object);
        }));
        _client.BaseAddress = _runner.BaseUrl;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _runner.DisposeAsync();
    }

    private static HttpRequestMessage Provision(string path = "api/operator/machines", string? headerKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(ProvisionBody, System.Text.Encoding.UTF8, "application/json") };
        if (headerKey is not null)
        {
            request.Headers.Add("x-functions-key", headerKey);
        }

        return request;
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
    public async Task The_interactive_reference_loads_the_document_and_its_script_from_the_runner_alone()
    {
        var page = await _client.GetStringAsync("api/docs");

        Assert.Contains("\"url\":\"api/docs/openapi.yaml\"", page, StringComparison.Ordinal); // resolved by the page against its origin
        // Offline: every script the page loads comes from the runner itself, and no web font is pulled from a CDN.
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
    public void It_listens_on_loopback()
    {
        Assert.Equal("127.0.0.1", _runner.BaseUrl.Host);
        Assert.NotEqual(0, _runner.BaseUrl.Port);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData(RunnerSettings.FunctionKey + "x")]
    public async Task Operator_routes_refuse_a_missing_or_wrong_function_key(string? key)
    {
        using var response = await _client.SendAsync(Provision(headerKey: key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("unauthorized", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        _directory.Verify(d => d.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Operator_routes_accept_the_key_in_the_header()
    {
        using var response = await _client.SendAsync(Provision(headerKey: RunnerSettings.FunctionKey));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("lobby-1.generated-secret", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString());
    }

    [Fact]
    public async Task Operator_routes_accept_the_key_as_code_query()
    {
        using var response = await _client.SendAsync(Provision(path: "api/operator/machines?code=" + RunnerSettings.FunctionKey));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_routes_need_no_key()
    {
        using var response = await _client.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Route_values_and_machine_auth_reach_the_function()
    {
        _sales.Setup(s => s.GetAsync("machine-1", "sale-0001-abcd", It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale());
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/payments/sale-0001-abcd");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestHttp.MachineKey);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("sale-0001-abcd", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString());
    }

    [Fact]
    public async Task A_method_the_function_does_not_declare_is_not_served()
    {
        using var response = await _client.DeleteAsync("api/payments/sale-0001-abcd");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}

public sealed class LocalRunnerWithoutKeyTests
{
    [Fact]
    public async Task Without_a_configured_key_operator_routes_refuse_everyone()
    {
        var directory = Fakes.Directory();
        var options = RunnerSettings.Create(services => services.AddSingleton(directory.Object));
        options.Settings["LocalRunner:FunctionKey"] = "";
        await using var runner = await LocalRunnerApp.StartAsync(options);
        using var client = new HttpClient { BaseAddress = runner.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/operator/machines?code=") { Content = new StringContent("{}") };
        request.Headers.Add("x-functions-key", "");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        directory.Verify(d => d.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
