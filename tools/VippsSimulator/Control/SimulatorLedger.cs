using VippsSimulator.Payments;

namespace VippsSimulator.Control;

public sealed record LedgerSummary(
    string Msn, string MerchantId, string Reference, PaymentState State, Money Amount, long Authorized, long Captured, long Cancelled, long Refunded);

public sealed record LedgerEntry(
    string Msn, string MerchantId, string Reference, PaymentState State, Money Amount, long Authorized, long Captured, long Cancelled, long Refunded,
    string UserFlow, string? QrFormat, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? OpenedAt, DateTimeOffset? AuthorizedAt,
    IReadOnlyList<PaymentEventView> Events, IReadOnlyList<LedgerOperation> Operations);

/// <summary>What really moved, per payment: for tests to prove what was captured, and for <c>/_sim/ledger</c>.</summary>
public sealed class SimulatorLedger(PaymentStore store, PaymentService payments)
{
    /// <summary>The payment with this reference; <paramref name="msn"/> may be omitted when only one merchant has the reference.</summary>
    public LedgerEntry? Find(string reference, string? msn = null)
    {
        var p = msn is not null ? store.Find(msn, reference) : store.FindAll(reference) is [var only] ? only : null;
        if (p is null) return null;
        lock (p.Sync)
        {
            payments.ExpireIfDue(p);
            return new LedgerEntry(p.Msn, p.MerchantId, p.Reference, p.State, p.Amount, p.Authorized, p.Captured, p.Cancelled, p.Refunded,
                p.UserFlow, p.QrFormat, p.CreatedAt, p.ExpiresAt, p.OpenedAt, p.AuthorizedAt,
                p.Events.Select(PaymentViews.Event).ToList(), p.Operations.ToList());
        }
    }

    public IReadOnlyList<LedgerSummary> All()
    {
        var result = new List<LedgerSummary>();
        foreach (var p in store.All.OrderBy(p => p.CreatedAt))
        {
            lock (p.Sync)
            {
                payments.ExpireIfDue(p);
                result.Add(new LedgerSummary(p.Msn, p.MerchantId, p.Reference, p.State, p.Amount, p.Authorized, p.Captured, p.Cancelled, p.Refunded));
            }
        }
        return result;
    }

    /// <summary>The customer token of a payment (as in its QR and customer-page links), for tests that drive the customer page.</summary>
    public string? CustomerToken(string reference, string? msn = null) =>
        (msn is not null ? store.Find(msn, reference) : store.FindAll(reference) is [var only] ? only : null)?.CustomerToken;
}
