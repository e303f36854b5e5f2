using System.Net;
using System.Text.Json;
using LocalRunner;
using Vending.Core.Operator.Access;
using Vending.Core.Storage;
using Vending.Testing;

namespace VendingFunctions.Tests;

/// <summary>
/// The runner standing in for App Service Authentication, over real HTTP with real Azurite: with its local sign-in off
/// a forged <c>x-ms-client-principal</c> gets nobody in (even if the app's own setting says to trust it); on, the
/// runner strips whatever a client sends and passes only the signed-in person, whose changes are audited under their name.
/// </summary>
public sealed class LocalSignInTests : IAsyncLifetime
{
    private static readonly string ForgedOperator = ClientPrincipalHeader.Encode("Mallory", "forged-oid", OperatorPrincipal.OperatorRoleName);
    private Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    private Task<LocalRunnerApp> StartAsync(bool localSignIn)
    {
        var options = RunnerSettings.Create(_ => { }, storage: _azurite.ConnectionString);
        options.Settings["LocalRunner:LocalSignIn"] = localSignIn ? "true" : "false";
        // What a careless local.settings.json might say: the runner must still not trust a header nobody vouched for.
        options.Settings["Vending:Operator:TrustPlatformPrincipal"] = "true";
        return LocalRunnerApp.StartAsync(options);
    }

    [Fact]
    public async Task With_local_sign_in_off_a_forged_principal_is_ignored_and_there_is_no_sign_in_page()
    {
        await using var runner = await StartAsync(localSignIn: false);
        using var http = new HttpClient { BaseAddress = runner.BaseUrl };

        using var me = new HttpRequestMessage(HttpMethod.Get, "api/operator/me");
        me.Headers.Add(ClientPrincipalHeader.HeaderName, ForgedOperator);
        using var meResponse = await http.SendAsync(me);
        using var change = new HttpRequestMessage(HttpMethod.Post, "api/operator/machines/demo-01/disable");
        change.Headers.Add(ClientPrincipalHeader.HeaderName, ForgedOperator);
        using var changeResponse = await http.SendAsync(change);
        using var page = await http.GetAsync(LocalSignIn.LoginPath.TrimStart('/'));

        Assert.Equal(HttpStatusCode.Unauthorized, meResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, changeResponse.StatusCode);
        Assert.Equal("application/problem+json", changeResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
    }

    [Fact]
    public async Task With_local_sign_in_on_only_the_signed_in_person_counts_and_a_viewers_change_is_403_and_audited()
    {
        await using var runner = await StartAsync(localSignIn: true);
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var http = new HttpClient(handler) { BaseAddress = runner.BaseUrl };

        // Not signed in: a forged header is stripped by the runner, as the platform strips it.
        using var forged = new HttpRequestMessage(HttpMethod.Get, "api/operator/me");
        forged.Headers.Add(ClientPrincipalHeader.HeaderName, ForgedOperator);
        using var forgedResponse = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, forgedResponse.StatusCode);

        using var page = await http.GetAsync(LocalSignIn.LoginPath.TrimStart('/'));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Vending.Viewer", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var signIn = await http.PostAsync(LocalSignIn.LoginPath.TrimStart('/'), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "Vera Viewer",
            ["role"] = OperatorPrincipal.ViewerRoleName,
            ["return"] = "/api/console/",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/api/console/", signIn.Headers.Location?.OriginalString);

        // Signed in as a viewer, a forged operator header in the same request changes nothing: the runner replaces it.
        using var me = new HttpRequestMessage(HttpMethod.Get, "api/operator/me");
        me.Headers.Add(ClientPrincipalHeader.HeaderName, ForgedOperator);
        using var meResponse = await http.SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, meResponse.StatusCode);
        var who = JsonDocument.Parse(await meResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("Vera Viewer", "Viewer", false), (who.GetProperty("name").GetString(), who.GetProperty("role").GetString(), who.GetProperty("canChange").GetBoolean()));

        using var disable = await http.PostAsync("api/operator/machines/demo-01/disable", null);
        Assert.Equal(HttpStatusCode.Forbidden, disable.StatusCode);
        var problem = JsonDocument.Parse(await disable.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("forbidden", problem.GetProperty("code").GetString());

        var audit = runner.Services.GetRequiredService<IOperatorAuditLog>();
        var history = await audit.ForSubjectAsync(AuditSubjects.Machine, "demo-01", 10, CancellationToken.None);
        var entry = Assert.Single(history);
        Assert.Equal((OperatorActions.Disable, "Vera Viewer", 403, "forbidden"), (entry.Action, entry.ActorName, entry.Status, entry.Outcome));
        var day = await audit.QueryAsync(new AuditQuery(entry.At.AddMinutes(-1), entry.At.AddMinutes(1), 10, null), CancellationToken.None);
        Assert.Equal(entry, Assert.Single(day.Entries));
    }
}
