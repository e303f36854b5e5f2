using System.Text.Json;
using FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace FunctionsHost.Triggers;

/// <summary>Runs one timer-triggered function through the worker on its schedule, one run at a time (as the Functions
/// host's singleton timer lock does). The worker binds TimerInfo from the JSON the Functions timer extension sends.
/// A failing run is logged; the schedule goes on.</summary>
internal sealed class WorkerTimerService(
    WorkerFunction function,
    TimerSchedule schedule,
    Func<string, CancellationToken, Task> run,
    TimeProvider time,
    ILogger logger) : BackgroundService
{
    public WorkerTimerService(WorkerFunction function, TimerSchedule schedule, WorkerInvoker invoker, TimeProvider time, ILogger logger)
        : this(function, schedule, (timerInfo, cancellationToken) => invoker.InvokeAsync(function, request =>
            request.InputData.Add(new ParameterBinding { Name = function.TriggerBindingName, Data = new TypedData { Json = timerInfo } }), cancellationToken), time, logger)
    {
    }

    public WorkerFunction Function => function;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DateTimeOffset? last = null;
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
            var timerInfo = JsonSerializer.Serialize(new
            {
                Schedule = new { AdjustForDST = true },
                ScheduleStatus = new { Last = last ?? DateTimeOffset.MinValue, Next = following, LastUpdated = now },
                IsPastDue = now - next > TimeSpan.FromSeconds(1),
            });

            try
            {
                await run(timerInfo, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is FunctionInvocationException or WorkerUnavailableException)
            {
                logger.LogError(exception, "Timer function {Function} failed", function.Name);
            }

            last = now;
            next = following;
        }
    }
}
