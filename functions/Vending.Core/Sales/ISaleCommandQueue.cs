namespace Vending.Core.Sales;

public interface ISaleCommandQueue
{
    Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken);
}
