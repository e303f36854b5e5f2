namespace Vending.Core.Sales;

/// <summary>The sale a machine sale id maps to. <see cref="IsNew"/>: this call made the claim (a new sale).</summary>
public sealed record MachineSaleClaim(string Reference, bool IsNew);

public sealed record MachineSaleListing(string Reference, string MachineSaleId, DateTimeOffset CreatedAt);

public interface IMachineSaleIndex
{
    /// <summary>
    /// Maps (machine, machine sale id) to a sale reference, once: an existing mapping is returned as is (a replay).
    /// A new one needs the machine's current open sale (if any) to be over, which <paramref name="isStillOpen"/> judges;
    /// otherwise 409 <c>open_sale_exists</c>. Claim, listing row and the machine's open-sale pointer are one transaction,
    /// so two racing creates cannot both win.
    /// </summary>
    Task<MachineSaleClaim> ClaimAsync(
        string machineId,
        string machineSaleId,
        string proposedReference,
        Func<string, DateTimeOffset, CancellationToken, Task<bool>> isStillOpen,
        CancellationToken cancellationToken);

    Task<string?> FindAsync(string machineId, string machineSaleId, CancellationToken cancellationToken);

    /// <summary>The machine's sales, newest first.</summary>
    Task<IReadOnlyList<MachineSaleListing>> ListAsync(string machineId, int max, CancellationToken cancellationToken);
}
