using Microsoft.Azure.Functions.Worker;

namespace LocalRunner;

/// <summary>Runs one timer-triggered function on its schedule, one run at a time (as the Functions host's singleton
/// timer lock does). A failing run is logged; the schedule goes on.</summary>
internal sealed class TimerTriggerService(
    TimerFunction function,
    TimerSchedule schedule,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<TimerTriggerService> logger) : BackgroundService
{
    public TimerFunction Function => function;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset last = default;
        var next = function.RunOnStartup ? time.GetUtcNow() : schedule.Next(time.GetUtcNow());
        logger.LogInformation("Function {Function} runs on schedule {Schedule}; first run {Next:O}", function.Name, function.Schedule, next);
        while (!stoppingToken.IsCancellationRequested)
        {
            var current = time.GetUtcNow();
            next = schedule.Due(next, current);
            var wait = next - current;
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var now = time.GetUtcNow();
            var following = schedule.Next(now);
            var timer = new TimerInfo
            {
                IsPastDue = now - next > TimeSpan.FromSeconds(1),
                ScheduleStatus = new ScheduleStatus { Last = last.UtcDateTime, Next = following.UtcDateTime, LastUpdated = now.UtcDateTime },
            };

            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await FunctionInvoker.InvokeAsync(scope.ServiceProvider, function.Method,
                    function.Method.GetParameters().Select(p => p.ParameterType == typeof(TimerInfo) ? timer : (object)stoppingToken).ToArray());
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Timer function {Function} failed", function.Name);
            }

            last = now;
            next = following;
        }
    }
}
