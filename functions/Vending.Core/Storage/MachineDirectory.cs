using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Vipps;

namespace Vending.Core.Storage;

/// <summary>
/// The <c>Machines</c> table (PartitionKey <c>machine</c>, RowKey = machine id): profile, merchant, enabled, and the
/// SHA-256 of the current secret plus the previous one with the end of its grace period. Keys are never stored or logged.
/// </summary>
public sealed partial class MachineDirectory(
    VendingTables tables,
    IOptions<VendingOptions> options,
    IOptions<VippsOptions> vipps,
    MachineSeeder seeder,
    TimeProvider time,
    ILogger<MachineDirectory> logger) : IMachineDirectory
{
    internal const string Partition = "machine";
    private static readonly HashSet<string> QrFormats = new(StringComparer.Ordinal) { "svg", "png", "url" };

    private readonly MachineAuthCache _cache = new(time);

    /// <summary>Rows held by this instance's authentication cache (tests and diagnostics).</summary>
    internal int CachedMachines => _cache.Count;

    public async Task<Machine?> AuthenticateAsync(string apiKey, CancellationToken cancellationToken)
    {
        if (!MachineKeys.TrySplit(apiKey, out var machineId, out var secret) || !MachineIdRegex().IsMatch(machineId))
        {
            return null;
        }

        // Only an acceptance is answered from the cache; a refusal falls through to storage (see MachineAuthCache).
        if (_cache.TryGet(machineId, out var cached) && Verify(cached, secret) is { } fromCache)
        {
            return fromCache;
        }

        var stamp = _cache.Stamp;
        var readAt = time.GetUtcNow();
        var entity = await FindAsync(machineId, cancellationToken);
        if (entity is null)
        {
            return null;
        }

        var row = new MachineAuthRow(ToMachine(entity), entity.GetString("SecretHash"), entity.GetString("PreviousSecretHash"),
            entity.GetDateTimeOffset("PreviousValidUntil"));
        _cache.Put(machineId, row, stamp, readAt);
        if (!KeyMatches(row, secret))
        {
            logger.LogWarning("Machine {MachineId}: authentication with a wrong or expired key", machineId);
            return null;
        }

        return row.Machine.Enabled ? row.Machine : null;
    }

    private Machine? Verify(MachineAuthRow row, string secret) => KeyMatches(row, secret) && row.Machine.Enabled ? row.Machine : null;

    private bool KeyMatches(MachineAuthRow row, string secret)
    {
        var current = MachineKeys.Matches(secret, row.SecretHash);
        // Both compared always, so timing does not tell which key matched.
        var previous = MachineKeys.Matches(secret, row.PreviousSecretHash)
            && row.PreviousValidUntil is { } until && time.GetUtcNow() < until;
        return current || previous;
    }

    public async Task<MachineCredentials> ProvisionAsync(ProvisionMachineRequest request, CancellationToken cancellationToken)
    {
        Validate(request);
        var secret = MachineKeys.NewSecret();
        var now = time.GetUtcNow();
        var machine = new Machine(request.MachineId, request.Name.Trim(), request.Location.Trim(), request.MerchantId, request.Currency,
            request.CaptureMode, request.QrFormat, Enabled: true, CreatedAt: now, KeyRotatedAt: now);
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(ToEntity(machine, MachineKeys.Hash(secret)), cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
            throw new SaleException(RefusalKind.Conflict, "machine_exists", $"Machine {request.MachineId} is already provisioned; rotate its key instead.", "machineId");
        }

        logger.LogInformation("Machine {MachineId} provisioned for merchant {MerchantId}", machine.MachineId, machine.MerchantId);
        return new MachineCredentials(machine, MachineKeys.ApiKey(machine.MachineId, secret));
    }

    public async Task<Machine?> GetAsync(string machineId, CancellationToken cancellationToken) =>
        MachineIdRegex().IsMatch(machineId) && await FindAsync(machineId, cancellationToken) is { } entity ? ToMachine(entity) : null;

    public async Task<MachineCredentials> RotateSecretAsync(string machineId, CancellationToken cancellationToken)
    {
        var entity = await RequireAsync(machineId, cancellationToken);
        var secret = MachineKeys.NewSecret();
        var grace = TimeSpan.FromSeconds(options.Value.SecretRotationGraceSeconds);
        var now = time.GetUtcNow();
        entity["PreviousSecretHash"] = entity.GetString("SecretHash");
        entity["PreviousValidUntil"] = now + grace;
        entity["SecretHash"] = MachineKeys.Hash(secret);
        entity["KeyRotatedAt"] = now.ToUniversalTime();
        await UpdateAsync(entity, cancellationToken);
        _cache.Invalidate(machineId);
        logger.LogInformation("Machine {MachineId}: key rotated; the previous key works for {GraceSeconds} s more", machineId, grace.TotalSeconds);
        return new MachineCredentials(ToMachine(entity), MachineKeys.ApiKey(machineId, secret));
    }

    public async Task<Machine> SetEnabledAsync(string machineId, bool enabled, CancellationToken cancellationToken)
    {
        var entity = await RequireAsync(machineId, cancellationToken);
        entity["Enabled"] = enabled;
        await UpdateAsync(entity, cancellationToken);
        _cache.Invalidate(machineId);
        logger.LogInformation("Machine {MachineId} {Change}", machineId, enabled ? "enabled" : "disabled");
        return ToMachine(entity);
    }

    public async Task<IReadOnlyList<Machine>> ListAsync(CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var machines = new List<Machine>();
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), cancellationToken: cancellationToken))
        {
            machines.Add(ToMachine(entity));
        }

        return machines;
    }

    internal static TableEntity ToEntity(Machine machine, string secretHash) => new(Partition, machine.MachineId)
    {
        ["Name"] = machine.Name,
        ["Location"] = machine.Location,
        ["MerchantId"] = machine.MerchantId,
        ["Currency"] = machine.Currency,
        ["CaptureMode"] = machine.CaptureMode.ToString(),
        ["QrFormat"] = machine.QrFormat,
        ["Enabled"] = machine.Enabled,
        ["CreatedAt"] = machine.CreatedAt.ToUniversalTime(),
        ["KeyRotatedAt"] = machine.KeyRotatedAt.ToUniversalTime(),
        ["SecretHash"] = secretHash,
    };

    private static Machine ToMachine(TableEntity entity)
    {
        var createdAt = entity.GetDateTimeOffset("CreatedAt") ?? default;
        return new Machine(
            entity.RowKey,
            entity.GetString("Name") ?? "",
            entity.GetString("Location") ?? "",
            entity.GetString("MerchantId") ?? "",
            entity.GetString("Currency") ?? "",
            Enum.TryParse<CaptureMode>(entity.GetString("CaptureMode"), out var mode) ? mode : CaptureMode.OnDelivery,
            entity.GetString("QrFormat") ?? "svg",
            entity.GetBoolean("Enabled") ?? false,
            createdAt,
            // Rows written before the rotation time was recorded: their key is at least as old as the machine.
            entity.GetDateTimeOffset("KeyRotatedAt") ?? createdAt);
    }

    /// <summary>Refusals name the field: an operator fixes the request.</summary>
    internal void Validate(ProvisionMachineRequest request)
    {
        if (request.MachineId is null || !MachineIdRegex().IsMatch(request.MachineId))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_machine_id", "Machine id: 3 to 32 of a-z, 0-9 and '-'.", "machineId");
        }

        if (!vipps.Value.Merchants.TryGetValue(request.MerchantId ?? "", out var merchant))
        {
            throw new SaleException(RefusalKind.Invalid, "unknown_merchant", $"No merchant '{request.MerchantId}' is configured.", "merchantId");
        }

        if (!merchant.Currencies.Contains(request.Currency ?? "", StringComparer.Ordinal))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_currency", $"Merchant {request.MerchantId} sells in {string.Join(", ", merchant.Currencies)}.", "currency");
        }

        if (!QrFormats.Contains(request.QrFormat ?? ""))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_qr_format", "QR format: svg, png or url.", "qrFormat");
        }

        if (!Enum.IsDefined(request.CaptureMode))
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_capture_mode", "Capture mode: OnDelivery or OnAuthorization.", "captureMode");
        }

        if ((request.Name ?? "").Length > InputLimits.MachineNameMaxLength || (request.Location ?? "").Length > InputLimits.MachineLocationMaxLength)
        {
            throw new SaleException(RefusalKind.Invalid, "invalid_machine_profile", "Name at most 100, location at most 200 characters.", "name");
        }
    }

    private async Task<TableEntity?> FindAsync(string machineId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(Partition, machineId, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    private async Task<TableEntity> RequireAsync(string machineId, CancellationToken cancellationToken) =>
        (MachineIdRegex().IsMatch(machineId) ? await FindAsync(machineId, cancellationToken) : null)
        ?? throw new SaleException(RefusalKind.NotFound, "machine_not_found", $"No machine '{machineId}'.");

    private async Task UpdateAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 412)
        {
            throw new SaleException(RefusalKind.Conflict, "machine_changed", "The machine changed meanwhile; try again.");
        }
    }

    private async Task<TableClient> TableAsync(CancellationToken cancellationToken)
    {
        await seeder.SeedAsync(cancellationToken);
        return await tables.GetAsync(TableNames.Machines, cancellationToken);
    }

    [GeneratedRegex(InputLimits.MachineIdPattern)]
    private static partial Regex MachineIdRegex();
}
