namespace Vending.Core.Machines;

public interface IMachineDirectory
{
    /// <summary>Null when the key is unknown, wrong, expired (past a rotation's grace period) or the machine is disabled.
    /// Constant-time comparison of hashes.</summary>
    Task<Machine?> AuthenticateAsync(string apiKey, CancellationToken cancellationToken);

    Task<MachineCredentials> ProvisionAsync(ProvisionMachineRequest request, CancellationToken cancellationToken);

    Task<Machine?> GetAsync(string machineId, CancellationToken cancellationToken);

    /// <summary>A new key; the previous one keeps working for <c>Vending:SecretRotationGraceSeconds</c>
    /// (so a machine can switch without downtime). 404 <c>machine_not_found</c> when unknown.</summary>
    Task<MachineCredentials> RotateSecretAsync(string machineId, CancellationToken cancellationToken);

    /// <summary>A disabled machine cannot authenticate (its sales stay as they are). 404 <c>machine_not_found</c> when unknown.</summary>
    Task<Machine> SetEnabledAsync(string machineId, bool enabled, CancellationToken cancellationToken);

    Task<IReadOnlyList<Machine>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>Writes the machines of <c>Vending:SeedMachines</c> (local runs: a demo machine with a known key).
/// Runs once per process, on first use of the directory, or when the runner calls it.</summary>
public interface IMachineSeeder
{
    Task SeedAsync(CancellationToken cancellationToken);
}
