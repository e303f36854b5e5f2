using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Service;
using Vending.Core.Tests.Storage;
using Vending.Vipps;

namespace Vending.Core.Tests.Machines;

[Collection(nameof(AzuriteCollection))]
public class MachineDirectoryTests(AzuriteFixture azurite)
{
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);

    private MachineDirectory Directory(params SeedMachineOptions[] seeds)
    {
        var options = Options.Create(new VendingOptions { PublicBaseUrl = new Uri("http://x"), SecretRotationGraceSeconds = 3600, SeedMachines = [.. seeds] });
        var vipps = Options.Create(new VippsOptions
        {
            BaseUrl = new Uri("http://x"),
            Merchants = new() { ["vippsno"] = new VippsMerchantOptions { MerchantSerialNumber = "123456", Currencies = ["NOK"] } },
        });
        var tables = azurite.Tables();
        return new MachineDirectory(tables, options, vipps, new MachineSeeder(tables, options, _time, NullLogger<MachineSeeder>.Instance), _time, NullLogger<MachineDirectory>.Instance);
    }

    private static ProvisionMachineRequest Request(string? id = null) =>
        new(id ?? "vm-" + Guid.NewGuid().ToString("N")[..8], "Lobby", "Oslo", "vippsno", "NOK", CaptureMode.OnDelivery, "svg");

    [Fact]
    public async Task A_provisioned_key_authenticates_and_only_its_hash_is_stored()
    {
        var directory = Directory();
        var credentials = await directory.ProvisionAsync(Request(), default);
        var machineId = credentials.Machine.MachineId;

        Assert.StartsWith(machineId + ".", credentials.ApiKey);
        Assert.Equal(machineId, (await directory.AuthenticateAsync(credentials.ApiKey, default))!.MachineId);
        Assert.Null(await directory.AuthenticateAsync(credentials.ApiKey + "x", default));
        Assert.Null(await directory.AuthenticateAsync(credentials.ApiKey.Replace(machineId, "vm-other"), default));
        Assert.Null(await directory.AuthenticateAsync("garbage", default));

        var secret = credentials.ApiKey[(machineId.Length + 1)..];
        Assert.True(secret.Length >= 43); // 256 bits
        var row = azurite.Table(TableNames.Machines).GetEntity<TableEntity>("machine", machineId).Value;
        Assert.DoesNotContain(row, property => property.Value is string text && text.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disabled_machine_cannot_authenticate_until_enabled()
    {
        var directory = Directory();
        var credentials = await directory.ProvisionAsync(Request(), default);

        await directory.SetEnabledAsync(credentials.Machine.MachineId, false, default);
        Assert.Null(await directory.AuthenticateAsync(credentials.ApiKey, default));

        await directory.SetEnabledAsync(credentials.Machine.MachineId, true, default);
        Assert.NotNull(await directory.AuthenticateAsync(credentials.ApiKey, default));
    }

    [Fact]
    public async Task After_rotation_the_old_key_works_only_during_the_grace_period()
    {
        var directory = Directory();
        var old = await directory.ProvisionAsync(Request(), default);

        var rotated = await directory.RotateSecretAsync(old.Machine.MachineId, default);

        Assert.NotEqual(old.ApiKey, rotated.ApiKey);
        Assert.NotNull(await directory.AuthenticateAsync(rotated.ApiKey, default));
        Assert.NotNull(await directory.AuthenticateAsync(old.ApiKey, default));
        _time.Advance(TimeSpan.FromSeconds(3601));
        Assert.Null(await directory.AuthenticateAsync(old.ApiKey, default));
        Assert.NotNull(await directory.AuthenticateAsync(rotated.ApiKey, default));
    }

    [Fact]
    public async Task Provisioning_records_the_key_time_and_rotation_moves_it_but_enabling_does_not()
    {
        var directory = Directory();
        var provisionedAt = _time.GetUtcNow();
        var provisioned = await directory.ProvisionAsync(Request(), default);
        var machineId = provisioned.Machine.MachineId;
        AssertSameInstant(provisionedAt, (await directory.GetAsync(machineId, default))!.KeyRotatedAt);

        _time.Advance(TimeSpan.FromDays(40));
        await directory.SetEnabledAsync(machineId, false, default);
        AssertSameInstant(provisionedAt, (await directory.GetAsync(machineId, default))!.KeyRotatedAt);

        var rotatedAt = _time.GetUtcNow();
        var rotated = await directory.RotateSecretAsync(machineId, default);

        AssertSameInstant(rotatedAt, rotated.Machine.KeyRotatedAt);
        var stored = (await directory.GetAsync(machineId, default))!;
        AssertSameInstant(rotatedAt, stored.KeyRotatedAt);
        AssertSameInstant(provisionedAt, stored.CreatedAt);
        AssertSameInstant(rotatedAt, (await directory.ListAsync(default)).Single(m => m.MachineId == machineId).KeyRotatedAt);
        Assert.Equal(TimeSpan.Zero, stored.KeyRotatedAt.Offset);
    }

    [Fact]
    public async Task A_machine_stored_before_key_times_were_recorded_reads_its_creation_as_key_time()
    {
        var directory = Directory();
        var machineId = (await directory.ProvisionAsync(Request(), default)).Machine.MachineId;
        var table = azurite.Table(TableNames.Machines);
        var row = table.GetEntity<TableEntity>("machine", machineId).Value;
        var createdAt = row.GetDateTimeOffset("CreatedAt")!.Value;
        row.Remove("KeyRotatedAt");
        await table.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);

        _time.Advance(TimeSpan.FromDays(3));
        AssertSameInstant(createdAt, (await directory.GetAsync(machineId, default))!.KeyRotatedAt);
    }

    // Table storage keeps 100 ns ticks; compared to the millisecond so the test does not depend on it.
    private static void AssertSameInstant(DateTimeOffset expected, DateTimeOffset actual) =>
        Assert.True((expected - actual).Duration() < TimeSpan.FromMilliseconds(1), $"expected {expected:O}, got {actual:O}");

    [Theory]
    [InlineData("AB", "vippsno", "NOK", "svg", "invalid_machine_id", "machineId")]
    [InlineData("vm-ok", "nobody", "NOK", "svg", "unknown_merchant", "merchantId")]
    [InlineData("vm-ok", "vippsno", "EUR", "svg", "invalid_currency", "currency")]
    [InlineData("vm-ok", "vippsno", "NOK", "gif", "invalid_qr_format", "qrFormat")]
    public async Task A_bad_provisioning_request_is_refused(string id, string merchant, string currency, string qr, string code, string field)
    {
        var refused = await Assert.ThrowsAsync<SaleException>(() =>
            Directory().ProvisionAsync(new ProvisionMachineRequest(id, "n", "l", merchant, currency, CaptureMode.OnDelivery, qr), default));

        Assert.Equal((RefusalKind.Invalid, code, field), (refused.Kind, refused.Code, refused.Field));
    }

    [Fact]
    public async Task Provisioning_the_same_id_twice_is_refused()
    {
        var directory = Directory();
        var request = Request();
        await directory.ProvisionAsync(request, default);

        var refused = await Assert.ThrowsAsync<SaleException>(() => directory.ProvisionAsync(request, default));

        Assert.Equal((RefusalKind.Conflict, "machine_exists"), (refused.Kind, refused.Code));
    }

    [Fact]
    public async Task A_seeded_machine_authenticates_with_its_configured_key_on_first_use()
    {
        var id = "seed-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Directory(new SeedMachineOptions { MachineId = id, ApiKey = $"{id}.demo-secret", MerchantId = "vippsno", Currency = "NOK", Name = "Demo" });

        var machine = await directory.AuthenticateAsync($"{id}.demo-secret", default);

        Assert.Equal(("Demo", "vippsno"), (machine!.Name, machine.MerchantId));
        Assert.Contains(await directory.ListAsync(default), listed => listed.MachineId == id);
    }
}
