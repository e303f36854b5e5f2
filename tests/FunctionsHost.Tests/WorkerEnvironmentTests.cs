namespace FunctionsHost.Tests;

/// <summary>What the worker process's environment holds: Core Tools' ranking, and never the host's own secrets.</summary>
public sealed class WorkerEnvironmentTests
{
    [Fact]
    public void Settings_become_double_underscore_variables_and_the_hosts_own_section_stays_out()
    {
        var local = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Vipps:BaseUrl"] = "http://from-local-settings",
            ["Vending:PublicBaseUrl"] = "http://local",
            ["FunctionsHost:LocalSignIn"] = "true",
            ["PATH"] = "not-the-real-path",
        };
        var explicitSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Vipps:BaseUrl"] = "http://explicit",
            ["FunctionsHost:FunctionKey"] = "the-operator-key",
            ["Vipps:Merchants:vippsno:WebhookSecret"] = "",
        };

        var environment = FunctionsHostApp.WorkerEnvironment(local, explicitSettings, "/app", "Development");

        Assert.Equal("http://explicit", environment["Vipps__BaseUrl"]);
        Assert.Equal("http://local", environment["Vending__PublicBaseUrl"]);
        Assert.Equal("", environment["Vipps__Merchants__vippsno__WebhookSecret"]);
        // local.settings.json never overrides the real environment (PATH is set in every test process).
        Assert.DoesNotContain("PATH", environment.Keys);
        Assert.DoesNotContain(environment.Values, v => v is "the-operator-key");
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("FunctionsHost__", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(("dotnet-isolated", "/app", "/app"), (environment["FUNCTIONS_WORKER_RUNTIME"], environment["FUNCTIONS_APPLICATION_DIRECTORY"], environment["FUNCTIONS_WORKER_DIRECTORY"]));
        Assert.Equal("Development", environment["AZURE_FUNCTIONS_ENVIRONMENT"]);
    }
}
