using LocalRunner;
using Vending.Testing;

namespace VendingFunctions.Tests;

/// <summary>Start options for a runner in tests: the repository's settings sample (what a developer copies), with
/// storage, key and triggers set per test.</summary>
internal static class RunnerSettings
{
    public const string FunctionKey = "test-function-key";

    public static LocalRunnerStartOptions Create(Action<IServiceCollection> configureServices, string storage = "UseDevelopmentStorage=true", bool runTriggers = false)
    {
        var options = new LocalRunnerStartOptions { ConfigureServices = configureServices };
        options.Settings["LocalRunner:LocalSettingsPath"] = Path.Combine(Azurite.RepositoryRoot(), "local.settings.sample.json");
        options.Settings["LocalRunner:FunctionKey"] = FunctionKey;
        options.Settings["LocalRunner:RunTriggers"] = runTriggers ? "true" : "false";
        options.Settings["VendingStorage"] = storage;
        options.Settings["AzureWebJobsStorage"] = storage;
        options.Settings["Events:LocalSinkPath"] = Path.Combine(Path.GetTempPath(), $"vending-events-{Guid.NewGuid():N}.jsonl");
        return options;
    }
}
