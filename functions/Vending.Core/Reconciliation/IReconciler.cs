namespace Vending.Core.Reconciliation;

/// <summary>Converges sales by asking Vipps, run by the timer trigger. Webhooks alone are never trusted to arrive.</summary>
public interface IReconciler
{
    /// <summary>One pass over the open sales; returns what it did (for logs and tests).</summary>
    Task<ReconcileReport> RunOnceAsync(CancellationToken cancellationToken);
}

public sealed record ReconcileReport(int Examined, int Changed, int CommandsEnqueued, int Errors);
