using System.Collections.Concurrent;

namespace VippsSimulator.Payments;

/// <summary>All payments, keyed by (MSN, reference) as Vipps keys them, and by customer token for the QR and customer page.</summary>
public sealed class PaymentStore
{
    private readonly ConcurrentDictionary<(string Msn, string Reference), Payment> _byReference = new();
    private readonly ConcurrentDictionary<string, Payment> _byToken = new(StringComparer.Ordinal);

    public Payment? Find(string msn, string reference) => _byReference.GetValueOrDefault((msn, reference));

    public Payment? FindByToken(string token) => _byToken.GetValueOrDefault(token);

    /// <summary>The payments with this reference across merchants (the /_sim routes let the MSN be omitted when unambiguous).</summary>
    public IReadOnlyList<Payment> FindAll(string reference) => _byReference.Values.Where(p => p.Reference == reference).ToList();

    public IReadOnlyCollection<Payment> All => _byReference.Values.ToList();

    /// <summary>Adds the payment unless the MSN already has that reference; returns the one that is stored.</summary>
    public Payment GetOrAdd(Payment payment)
    {
        var stored = _byReference.GetOrAdd((payment.Msn, payment.Reference), payment);
        if (ReferenceEquals(stored, payment)) _byToken[payment.CustomerToken] = payment;
        return stored;
    }
}
