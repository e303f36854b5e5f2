namespace Vending.Domain.Sales;

/// <summary>
/// Our own record of where a sale is. Vipps keeps <c>AUTHORIZED</c> after capture and cancel;
/// this is the source of truth for what the machine delivered and what was captured.
/// Serialized by name (e.g. "Authorized") in the API and in storage.
/// </summary>
public enum SaleState
{
    /// <summary>The Vipps payment exists; the customer has not approved yet.</summary>
    Created,

    /// <summary>The money is reserved: the machine may dispense.</summary>
    Authorized,

    /// <summary>The vend was reported (or capture at authorization applies): capture and/or cancel is in flight.</summary>
    Settling,

    /// <summary>Final: what was delivered is captured (the rest, if any, released).</summary>
    Captured,

    /// <summary>Final: nothing captured, the reservation released (vend failed, machine cancel, no vend report).</summary>
    Cancelled,

    /// <summary>Final: the customer aborted in the app.</summary>
    Aborted,

    /// <summary>Final: the customer did not act in time.</summary>
    Expired,

    /// <summary>Final but needs an operator: Vipps refused creating the payment, or refused a command permanently.</summary>
    Failed,

    /// <summary>Final: all that was captured has been refunded by an operator.</summary>
    Refunded,
}
