namespace Vending.Domain.Machines;

/// <summary>A provisioned vending machine. Its secret is stored only as a hash (kept by the machine directory of Vending.Core.Machines).
/// <see cref="KeyRotatedAt"/> is when its current key was issued (provision or the last rotation), so operators see how
/// old a key is; machines stored before it was recorded read their <see cref="CreatedAt"/>.</summary>
public sealed record Machine(
    string MachineId,
    string Name,
    string Location,
    string MerchantId,
    string Currency,
    CaptureMode CaptureMode,
    string QrFormat,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset KeyRotatedAt);

public enum CaptureMode
{
    /// <summary>Capture what the vend report says was delivered (the default).</summary>
    OnDelivery,

    /// <summary>Capture the full amount at authorization: for machines that always deliver.</summary>
    OnAuthorization,
}

public sealed record ProvisionMachineRequest(string MachineId, string Name, string Location, string MerchantId, string Currency, CaptureMode CaptureMode, string QrFormat);

/// <summary>The one time a machine's API key is seen: it is "{machineId}.{secret}", sent as "Authorization: Bearer {apiKey}".</summary>
public sealed record MachineCredentials(Machine Machine, string ApiKey);
