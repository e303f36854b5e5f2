namespace Vending.Core.Sales;

public enum CreationOutcome
{
    /// <summary>This call wrote the sale (or an earlier try of this very call did, and only its answer was lost).</summary>
    Created,

    /// <summary>The machine sale id was claimed before: <see cref="SaleCreation.Reference"/> is that sale.</summary>
    Replay,

    /// <summary>The machine's open sale (<see cref="SaleCreation.Reference"/>) still occupies it. Nothing written.</summary>
    OpenSaleExists,
}

/// <summary>What <see cref="ISaleStore.CreateAsync"/> did. <see cref="Stored"/>: the new sale (Created only);
/// <see cref="OpenMachineSaleId"/>: the machine sale id of the open sale that refused it.</summary>
public sealed record SaleCreation(CreationOutcome Outcome, string Reference, StoredSale? Stored, string? OpenMachineSaleId = null);

public sealed record MachineSaleListing(string Reference, string MachineSaleId, DateTimeOffset CreatedAt);
