using Microsoft.Azure.Functions.Worker;
using Vending.Core.Webhooks;

namespace VendingFunctions.Timers;

/// <summary>Daily at 03:30 UTC and when an instance starts: the webhook registrations Vipps may have deleted are
/// put back (timer triggers hold a singleton lock, so instances starting together do not race).</summary>
public sealed class WebhookWatchdogFunction(WebhookWatchdog watchdog)
{
    public const string Schedule = "0 30 3 * * *";

    [Function("WebhookWatchdog")]
    public Task Run([TimerTrigger(Schedule, RunOnStartup = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        watchdog.RunAsync(cancellationToken);
}
