namespace FunctionsHost;

/// <summary>The host's own settings, section <c>FunctionsHost</c> (environment: <c>FunctionsHost__FunctionKey</c>, ...).
/// They stay in the host: none of them is passed to the worker.</summary>
public sealed class FunctionsHostOptions
{
    public const string SectionName = "FunctionsHost";

    /// <summary>The key AuthorizationLevel.Function routes require (<c>x-functions-key</c> header or <c>?code=</c>).
    /// Unset: those routes answer 401 to everyone.</summary>
    public string? FunctionKey { get; set; }

    /// <summary>When set, every timer function runs at this fixed interval instead of its NCRONTAB schedule.</summary>
    public int? TimerIntervalSeconds { get; set; }

    /// <summary>False serves HTTP only (no queue polling, no timers).</summary>
    public bool RunTriggers { get; set; } = true;

    /// <summary>The Function App's build output (the folder with <c>worker.config.json</c> and <c>functions.metadata</c>);
    /// default: the repository's <c>functions/VendingFunctions/bin/{Release|Debug}/net10.0</c>, the newer one.</summary>
    public string? FunctionAppPath { get; set; }

    /// <summary>host.json to read the route prefix and queue settings from; default: the one in the Function App's output.</summary>
    public string? HostJsonPath { get; set; }

    /// <summary>local.settings.json whose <c>Values</c> become the worker's environment; default: the repository's, if any.</summary>
    public string? LocalSettingsPath { get; set; }

    /// <summary>True: the host stands in for App Service Authentication with a local sign-in page at
    /// <c>/.auth/login/local</c> (pick a name and a role) and passes the principal as the platform does; the worker is
    /// told to trust that header. Local only: Azure has the real thing.</summary>
    public bool LocalSignIn { get; set; }

    /// <summary>A file every log record is appended to, one line each (the worker's RpcLog records included).</summary>
    public string? LogPath { get; set; }

    /// <summary>How long the worker may take from process start to all functions loaded.</summary>
    public int WorkerStartupTimeoutSeconds { get; set; } = 60;

    /// <summary>How long an HTTP request waits for a worker that is (re)starting before it is answered 503.</summary>
    public int WorkerUnavailableWaitSeconds { get; set; } = 30;
}
