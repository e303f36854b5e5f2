namespace LocalRunner;

/// <summary>The runner's own settings, section <c>LocalRunner</c> (environment: <c>LocalRunner__FunctionKey</c>, ...).</summary>
public sealed class LocalRunnerOptions
{
    public const string SectionName = "LocalRunner";

    /// <summary>The key AuthorizationLevel.Function routes require (<c>x-functions-key</c> header or <c>?code=</c>).
    /// Unset: those routes answer 401 to everyone.</summary>
    public string? FunctionKey { get; set; }

    /// <summary>When set, every timer function runs at this fixed interval instead of its NCRONTAB schedule.</summary>
    public int? TimerIntervalSeconds { get; set; }

    /// <summary>False serves HTTP only (no queue polling, no timers): for tests of the HTTP surface without storage.</summary>
    public bool RunTriggers { get; set; } = true;

    /// <summary>host.json to read queue settings from; default: the repository's, else the one beside the runner.</summary>
    public string? HostJsonPath { get; set; }

    /// <summary>local.settings.json to read <c>Values</c> from; default: the repository's, else the one beside the runner.</summary>
    public string? LocalSettingsPath { get; set; }

    /// <summary>True: the runner stands in for App Service Authentication with a local sign-in page (pick a name and a
    /// role) and passes the principal as the platform does. Local only: Azure has no such thing.</summary>
    public bool LocalSignIn { get; set; }
}
