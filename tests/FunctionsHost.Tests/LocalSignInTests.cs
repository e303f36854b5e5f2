using System.Net;
using System.Text.Json;
using FunctionsHost.Http;
using Vending.Core.Operator.Access;

namespace FunctionsHost.Tests;

/// <summary>
/// The host standing in for App Service Authentication, over real HTTP through the real worker: with its local sign-in
/// off a forged <c>x-ms-client-principal</c> gets nobody in (even if the app's own setting says to trust it); on, the
/// host strips whatever a client sends and passes only the signed-in person, whose changes are audited under their name.
/// </summary>
public sealed class LocalSignInTests
{
    private static readonly string ForgedOperator = ClientPrincipalHeader.Encode("Mallory", "forged-oid", OperatorPrincipal.OperatorRoleName);

    private static Task<HostStack> StartAsync(bool localSignIn) => HostStack.StartAsync(settings =>
    {
        settings["FunctionsHost:LocalSignIn"] = localSignIn ? "true" : "false";
        // What a careless local.settings.json might say: the host must still not let the app trust a header nobody vouched for.
        settings["Vending:Operator:TrustPlatformPrincipal"] = "true";
    });

    [Fact]
    public async Task With_local_sign_in_off_a_forged_principal_is_ignored_and_there_is_no_sign_in_page()
    {
        await using var stack = await StartAsync(localSignIn: false);
        using var http = stack.Client();

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
        await using var stack = await StartAsync(localSignIn: true);
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var http = new HttpClient(handler) { BaseAddress = stack.BaseUrl };

        // Not signed in: a forged header is stripped by the host, as the platform strips it.
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

        // Signed in as a viewer, a forged operator header in the same request changes nothing: the host replaces it.
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

        // The refusal is in the audit trail under the viewer's name, read through the operator API with the key.
        using var operatorClient = stack.Client(operatorKey: true);
        var audit = JsonDocument.Parse(await operatorClient.GetStringAsync("api/operator/audit?machineId=demo-01")).RootElement;
        var entry = Assert.Single(audit.GetProperty("entries").EnumerateArray());
        Assert.Equal(("Vera Viewer", 403, "forbidden"),
            (entry.GetProperty("actorName").GetString(), entry.GetProperty("status").GetInt32(), entry.GetProperty("outcome").GetString()));
    }
}
