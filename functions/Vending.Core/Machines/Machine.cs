namespace Vending.Core.Machines;

/// <summary>A provisioned vending machine. Its secret is stored only as a hash (see <see cref="IMachineDirectory"/>).</summary>
public sealed record Machine(
    string MachineId,
    string Name,
    string Location,
    string MerchantId,
    string Currency,
    CaptureMode CaptureMode,
    string QrFormat,
    bool Enabled,
    DateTimeOffset CreatedAt);

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

public interface IMachineDirectory
{
    /// <summary>Null when the key is unknown, wrong, expired (past a rotation's grace period) or the machine is disabled.
    /// Constant-time comparison of hashes.</summary>
    Task<Machine?> AuthenticateAsync(string apiKey, CancellationToken cancellationToken);

    Task<MachineCredentials> ProvisionAsync(ProvisionMachineRequest request, CancellationToken cancellationToken);

    Task<Machine?> GetAsync(string machineId, CancellationToken cancellationToken);
}
