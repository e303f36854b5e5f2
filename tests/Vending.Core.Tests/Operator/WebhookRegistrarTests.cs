using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Http;
using Vending.Core.Webhooks;
using Vending.Vipps;
using Vending.Vipps.Webhooks;

namespace VendingFunctions.Tests.Operator;

/// <summary>The registrar's decisions, with Vipps' Webhooks API and the secret store mocked.</summary>
public sealed class WebhookRegistrarTests
{
    private const string Url = "https://vending.example/api/webhooks/vipps";
    private static readonly Guid Ours = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid Stray = Guid.Parse("22222222-2222-2222-2222-222222222222");
    private static readonly Guid Fresh = Guid.Parse("33333333-3333-3333-3333-333333333333");
    private static readonly Guid Foreign = Guid.Parse("44444444-4444-4444-4444-444444444444");

    private readonly Mock<IVippsWebhooksClient> _vipps = new(MockBehavior.Strict);
    private readonly Mock<IWebhookRegistrationStore> _store = new(MockBehavior.Strict);
    private readonly List<string> _calls = [];

    private WebhookRegistrar Registrar(string? configuredSecret = null)
    {
        var vipps = new VippsOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:7071"),
            Merchants = { ["vippsno"] = new VippsMerchantOptions { MerchantSerialNumber = "100001", WebhookSecret = configuredSecret } },
        };
        _vipps.Setup(v => v.DeleteAsync("vippsno", It.IsAny<Guid>(), It.IsAny<CancellationToken>()))
            .Callback((string _, Guid id, CancellationToken _) => _calls.Add($"delete {id}"))
            .Returns(Task.CompletedTask);
        _vipps.Setup(v => v.RegisterAsync("vippsno", Url, WebhookEventTypes.All, It.IsAny<CancellationToken>()))
            .Callback(() => _calls.Add("register"))
            .ReturnsAsync(new WebhookRegistration(Fresh, "fresh-secret"));
        _store.Setup(s => s.SaveAsync(It.IsAny<StoredWebhookRegistration>(), It.IsAny<CancellationToken>()))
            .Callback((StoredWebhookRegistration r, CancellationToken _) => _calls.Add($"save {r.RegistrationId} secret={r.Secret} hash={r.ConfiguredSecretHash is not null}"))
            .Returns(Task.CompletedTask);
        _store.Setup(s => s.RetireConfiguredSecretAsync("vippsno", It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback(() => _calls.Add("retire"))
            .Returns(Task.CompletedTask);
        _store.Setup(s => s.IsRetiredAsync("vippsno", It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(false);
        return new WebhookRegistrar(_vipps.Object, _store.Object, Options.Create(vipps), Options.Create(Fakes.Options()), TimeProvider.System, NullLogger<WebhookRegistrar>.Instance);
    }

    private void AtVipps(params WebhookInfo[] registrations) =>
        _vipps.Setup(v => v.ListAsync("vippsno", It.IsAny<CancellationToken>())).ReturnsAsync(registrations);

    private void Stored(params StoredWebhookRegistration[] registrations) =>
        _store.Setup(s => s.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync(registrations);

    private static WebhookInfo Registration(Guid id, string url = Url, IReadOnlyList<string>? events = null) => new(id, url, events ?? WebhookEventTypes.All);

    [Fact]
    public async Task With_no_registration_it_registers_and_stores_the_secret()
    {
        AtVipps(Registration(Foreign, "https://someone.else/hook"));
        Stored();

        var report = await Registrar().EnsureAsync(CancellationToken.None);

        var result = Assert.Single(report.Merchants);
        Assert.Equal(("registered", "store", Fresh), (result.Action, result.SecretSource, result.RegistrationId));
        Assert.Empty(result.Deleted);
        Assert.Equal(["register", $"save {Fresh} secret=fresh-secret hash=False"], _calls);
        Assert.Equal(Url, report.Url);
    }

    [Fact]
    public async Task The_stored_registration_is_kept_and_duplicates_at_our_url_are_deleted_but_not_other_urls()
    {
        AtVipps(Registration(Stray), Registration(Ours), Registration(Foreign, "https://someone.else/hook"));
        Stored(new StoredWebhookRegistration("vippsno", Ours, Url, "our-secret", null, DateTimeOffset.UtcNow));

        var result = Assert.Single((await Registrar().EnsureAsync(CancellationToken.None)).Merchants);

        Assert.Equal(("kept", "store", Ours), (result.Action, result.SecretSource, result.RegistrationId));
        Assert.Equal([Stray], result.Deleted);
        Assert.Equal([$"delete {Stray}"], _calls);
    }

    [Fact]
    public async Task A_registration_whose_secret_we_do_not_hold_is_replaced_new_first_then_deleted()
    {
        AtVipps(Registration(Stray));
        Stored(new StoredWebhookRegistration("vippsno", Ours, Url, "our-secret", null, DateTimeOffset.UtcNow));

        var result = Assert.Single((await Registrar("configured-secret").EnsureAsync(CancellationToken.None)).Merchants);

        Assert.Equal(("registered", Fresh), (result.Action, result.RegistrationId));
        // Stored before the old one goes, so webhooks keep verifying throughout; the configured secret is retired.
        Assert.Equal(["register", $"save {Fresh} secret=fresh-secret hash=False", "retire", $"delete {Stray}"], _calls);
    }

    [Fact]
    public async Task A_registration_missing_event_types_is_replaced()
    {
        AtVipps(Registration(Ours, events: [WebhookEventTypes.Authorized]));
        Stored(new StoredWebhookRegistration("vippsno", Ours, Url, "our-secret", null, DateTimeOffset.UtcNow));

        var result = Assert.Single((await Registrar().EnsureAsync(CancellationToken.None)).Merchants);

        Assert.Equal("registered", result.Action);
        Assert.Equal([Ours], result.Deleted);
    }

    [Fact]
    public async Task The_only_registration_with_a_configured_secret_is_adopted_once_and_then_recognised()
    {
        AtVipps(Registration(Ours));
        Stored();

        var first = Assert.Single((await Registrar("configured-secret").EnsureAsync(CancellationToken.None)).Merchants);

        Assert.Equal(("kept", "configuration", Ours), (first.Action, first.SecretSource, first.RegistrationId));
        Assert.Equal([$"save {Ours} secret= hash=True"], _calls);

        _calls.Clear();
        Stored(new StoredWebhookRegistration("vippsno", Ours, Url, null, WebhookSecretHash.Of("configured-secret"), DateTimeOffset.UtcNow));
        var again = Assert.Single((await Registrar("configured-secret").EnsureAsync(CancellationToken.None)).Merchants);
        Assert.Equal(("kept", "configuration"), (again.Action, again.SecretSource));
        Assert.Empty(_calls);

        // Another configured secret is not the one it was adopted with: replaced.
        var changed = Assert.Single((await Registrar("another-secret").EnsureAsync(CancellationToken.None)).Merchants);
        Assert.Equal("registered", changed.Action);
    }

    [Fact]
    public async Task A_retired_configured_secret_or_two_candidates_are_never_adopted()
    {
        AtVipps(Registration(Ours));
        Stored();
        var registrar = Registrar("stale-secret");
        _store.Setup(s => s.IsRetiredAsync("vippsno", WebhookSecretHash.Of("stale-secret"), It.IsAny<CancellationToken>())).ReturnsAsync(true);

        Assert.Equal("registered", Assert.Single((await registrar.EnsureAsync(CancellationToken.None)).Merchants).Action);

        AtVipps(Registration(Ours), Registration(Stray));
        _store.Setup(s => s.IsRetiredAsync("vippsno", It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(false);
        var two = Assert.Single((await Registrar("configured-secret").EnsureAsync(CancellationToken.None)).Merchants);
        Assert.Equal("registered", two.Action);
        Assert.Equal([Ours, Stray], two.Deleted.Order());
    }
}
