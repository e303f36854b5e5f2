using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Vending.Core.Machines;
using Vending.Core.Storage;
using Vending.Core.Tests.Service;
using Vending.Core.Tests.Storage;
using Vending.Vipps;

namespace Vending.Core.Tests.Machines;

/// <summary>The cache alone, on a fake clock.</summary>
public class MachineAuthCacheTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private static MachineAuthRow Row(string id = "vm-1") => new(
        new Machine(id, "n", "l", "vippsno", "NOK", CaptureMode.OnDelivery, "svg", true, default, default), "hash", null, null);

    [Fact]
    public void A_row_is_served_until_the_bound_and_not_after()
    {
        var cache = new MachineAuthCache(_time);
        cache.Put("vm-1", Row(), cache.Stamp, _time.GetUtcNow());

        _time.Advance(MachineAuthCache.Bound - TimeSpan.FromMilliseconds(1));
        Assert.True(cache.TryGet("vm-1", out var row));
        Assert.Equal("vm-1", row.Machine.MachineId);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGet("vm-1", out _));
    }

    [Fact]
    public void The_bound_runs_from_when_the_read_began_not_when_it_was_stored()
    {
        var cache = new MachineAuthCache(_time);
        var readAt = _time.GetUtcNow();
        _time.Advance(MachineAuthCache.Bound);

        cache.Put("vm-1", Row(), cache.Stamp, readAt);

        Assert.False(cache.TryGet("vm-1", out _));
    }

    [Fact]
    public void Invalidate_drops_the_machine_at_once_and_only_that_machine()
    {
        var cache = new MachineAuthCache(_time);
        cache.Put("vm-1", Row("vm-1"), cache.Stamp, _time.GetUtcNow());
        cache.Put("vm-2", Row("vm-2"), cache.Stamp, _time.GetUtcNow());

        cache.Invalidate("vm-1");

        Assert.False(cache.TryGet("vm-1", out _));
        Assert.True(cache.TryGet("vm-2", out _));
    }

    [Fact]
    public void A_row_read_before_an_invalidation_that_raced_with_it_is_not_kept()
    {
        var cache = new MachineAuthCache(_time);
        var stamp = cache.Stamp;      // the read begins
        cache.Invalidate("vm-1");     // an operator disables meanwhile
        cache.Put("vm-1", Row(), stamp, _time.GetUtcNow());   // the read, older than the change, completes

        Assert.False(cache.TryGet("vm-1", out _));
    }
}

/// <summary>Two instances (two directories, as two Function App instances have) over one Azurite table, one fake clock.</summary>
[Collection(nameof(AzuriteCollection))]
public class MachineAuthCacheStorageTests(AzuriteFixture azurite)
{
    private readonly ManualTime _time = new(DateTimeOffset.UtcNow);

    private MachineDirectory Instance()
    {
        var options = Options.Create(new VendingOptions { PublicBaseUrl = new Uri("http://x"), SecretRotationGraceSeconds = 3600 });
        var vipps = Options.Create(new VippsOptions
        {
            BaseUrl = new Uri("http://x"),
            Merchants = new() { ["vippsno"] = new VippsMerchantOptions { MerchantSerialNumber = "123456", Currencies = ["NOK"] } },
        });
        var tables = azurite.Tables();
        return new MachineDirectory(tables, options, vipps, new MachineSeeder(tables, options, _time, NullLogger<MachineSeeder>.Instance), _time, NullLogger<MachineDirectory>.Instance);
    }

    private static ProvisionMachineRequest Request() =>
        new("vm-" + Guid.NewGuid().ToString("N")[..8], "Lobby", "Oslo", "vippsno", "NOK", CaptureMode.OnDelivery, "svg");

    [Fact]
    public async Task Disable_takes_effect_at_once_on_its_instance_and_within_the_bound_on_another()
    {
        var (a, b) = (Instance(), Instance());
        var credentials = await a.ProvisionAsync(Request(), default);
        var machineId = credentials.Machine.MachineId;
        Assert.NotNull(await a.AuthenticateAsync(credentials.ApiKey, default));
        Assert.NotNull(await b.AuthenticateAsync(credentials.ApiKey, default));

        await a.SetEnabledAsync(machineId, false, default);

        Assert.Null(await a.AuthenticateAsync(credentials.ApiKey, default));
        // b answers from the row it read before the change: the documented staleness, no storage read.
        Assert.NotNull(await b.AuthenticateAsync(credentials.ApiKey, default));
        _time.Advance(MachineAuthCache.Bound);
        Assert.Null(await b.AuthenticateAsync(credentials.ApiKey, default));
    }

    [Fact]
    public async Task Enable_and_a_new_key_work_at_once_everywhere_because_a_refusal_is_never_answered_from_the_cache()
    {
        var (a, b) = (Instance(), Instance());
        var old = await a.ProvisionAsync(Request(), default);
        var machineId = old.Machine.MachineId;
        await a.SetEnabledAsync(machineId, false, default);
        Assert.Null(await b.AuthenticateAsync(old.ApiKey, default));   // b now holds the disabled row

        await a.SetEnabledAsync(machineId, true, default);
        Assert.NotNull(await b.AuthenticateAsync(old.ApiKey, default));

        var rotated = await a.RotateSecretAsync(machineId, default);   // b holds the row with only the old hash
        Assert.NotNull(await b.AuthenticateAsync(rotated.ApiKey, default));
        Assert.NotNull(await b.AuthenticateAsync(old.ApiKey, default)); // the grace period, as without the cache
        Assert.NotNull(await a.AuthenticateAsync(old.ApiKey, default));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_while_the_right_one_is_cached_and_the_grace_period_ends_on_time()
    {
        var directory = Instance();
        var old = await directory.ProvisionAsync(Request(), default);
        var rotated = await directory.RotateSecretAsync(old.Machine.MachineId, default);
        Assert.NotNull(await directory.AuthenticateAsync(rotated.ApiKey, default));
        Assert.Equal(1, directory.CachedMachines);

        Assert.Null(await directory.AuthenticateAsync(rotated.ApiKey + "x", default));
        Assert.Null(await directory.AuthenticateAsync(rotated.ApiKey[..^1], default));
        Assert.NotNull(await directory.AuthenticateAsync(old.ApiKey, default));

        // The grace period ends by the clock even inside the cache's bound.
        _time.Advance(TimeSpan.FromSeconds(3600) - MachineAuthCache.Bound / 2);
        Assert.NotNull(await directory.AuthenticateAsync(rotated.ApiKey, default));
        _time.Advance(MachineAuthCache.Bound / 2);
        Assert.Null(await directory.AuthenticateAsync(old.ApiKey, default));
        Assert.NotNull(await directory.AuthenticateAsync(rotated.ApiKey, default));
    }
}
