using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;

namespace Vending.Core.Storage;

/// <summary>
/// Upserts <c>Vending:SeedMachines</c> once per process, lazily (first use of the directory, or an explicit call),
/// never at start-up. The configured key's secret is stored only as its hash, like any other.
/// </summary>
public sealed class MachineSeeder(VendingTables tables, IOptions<VendingOptions> options, TimeProvider time, ILogger<MachineSeeder> logger) : IMachineSeeder
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _seeded;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        if (_seeded)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_seeded)
            {
                return;
            }

            var seeds = options.Value.SeedMachines;
            if (seeds.Count > 0)
            {
                var table = await tables.GetAsync(TableNames.Machines, cancellationToken);
                foreach (var seed in seeds)
                {
                    if (!MachineKeys.TrySplit(seed.ApiKey, out var keyMachineId, out var secret) || keyMachineId != seed.MachineId)
                    {
                        throw new InvalidOperationException($"Vending:SeedMachines: the ApiKey of {seed.MachineId} must be \"{seed.MachineId}.{{secret}}\".");
                    }

                    var now = time.GetUtcNow();
                    var machine = new Machine(seed.MachineId, seed.Name, seed.Location, seed.MerchantId, seed.Currency, seed.CaptureMode, seed.QrFormat, true, now, now);
                    await table.UpsertEntityAsync(MachineDirectory.ToEntity(machine, MachineKeys.Hash(secret)), TableUpdateMode.Replace, cancellationToken);
                    logger.LogInformation("Seeded machine {MachineId} for merchant {MerchantId}", seed.MachineId, seed.MerchantId);
                }
            }

            _seeded = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
