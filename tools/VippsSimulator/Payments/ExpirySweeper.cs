using Microsoft.Extensions.Options;
using VippsSimulator.Hosting;

namespace VippsSimulator.Payments;

/// <summary>Expires CREATED payments in the background, so EXPIRED webhooks go out even when nobody asks about the payment.</summary>
public sealed class ExpirySweeper(PaymentService payments, IOptions<SimulatorOptions> options, ILogger<ExpirySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(10, options.Value.ExpirySweepIntervalMilliseconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var expired = payments.ExpireDue();
                if (expired > 0) logger.LogDebug("Expiry sweep expired {Count} payments", expired);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
