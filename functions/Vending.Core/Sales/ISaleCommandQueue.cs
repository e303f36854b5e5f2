namespace Vending.Core.Sales;

public interface ISaleCommandQueue
{
    Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken);
}

/// <summary>Queue names, shared by the trigger attributes, the producers and Bicep.</summary>
public static class QueueNames
{
    public const string SaleCommands = "sale-commands";
    public const string SaleCommandsPoison = "sale-commands-poison";
}
