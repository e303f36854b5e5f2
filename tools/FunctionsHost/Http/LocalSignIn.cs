using System.Net;
using System.Text;
using System.Text.Json;
using Vending.Core.Operator.Access;

namespace FunctionsHost.Http;

/// <summary>
/// Stands in for App Service Authentication, locally only (<c>FunctionsHost:LocalSignIn</c>): a page at
/// <c>/.auth/login/local</c> where you pick a name and a role, a cookie that remembers it, and, on every request, what
/// the platform does: any <c>x-ms-client-principal</c> the client sent is removed, and the signed-in person's principal
/// is put in its place. Off (the default), nothing here runs and the worker is told to ignore the header
/// (<see cref="OperatorAccessOptions.TrustPlatformPrincipal"/> is forced false), so a forged one gets nobody in.
/// </summary>
internal static class LocalSignIn
{
    public const string LoginPath = "/.auth/login/local";
    public const string LogoutPath = "/.auth/logout";
    public const string CookieName = "vending-local-sign-in";

    public static void UsePlatformStandIn(WebApplication app) => app.Use(async (context, next) =>
    {
        context.Request.Headers.Remove(ClientPrincipalHeader.HeaderName);
        if (Read(context.Request.Cookies[CookieName]) is { } who)
        {
            context.Request.Headers[ClientPrincipalHeader.HeaderName] = ClientPrincipalHeader.Encode(who.Name, who.ObjectId, who.Role);
        }

        await next(context);
    });

    public static void Map(WebApplication app)
    {
        app.MapGet(LoginPath, (HttpContext context) => Results.Content(Page(SafeReturn(context.Request.Query["post_login_redirect_uri"])), "text/html; charset=utf-8"))
            .WithMetadata(new HostOwnEndpoint());
        app.MapPost(LoginPath, async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var name = (form["name"].ToString() ?? "").Trim();
            var role = form["role"].ToString();
            if (name.Length is 0 or > 100 || role is not (OperatorPrincipal.OperatorRoleName or OperatorPrincipal.ViewerRoleName))
            {
                return Results.Content(Page(SafeReturn(form["return"]), "Give a name (1-100 characters) and pick a role."), "text/html; charset=utf-8", statusCode: 400);
            }

            // A stable made-up object id per name, so the audit trail's "object id" column means something locally too.
            var objectId = new Guid(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes("local:" + name))).ToString();
            var value = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new Who(name, objectId, role)));
            context.Response.Cookies.Append(CookieName, value, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            return Results.Redirect(SafeReturn(form["return"]));
        }).WithMetadata(new HostOwnEndpoint()).DisableAntiforgery();
        app.MapGet(LogoutPath, (HttpContext context) =>
        {
            context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
            return Results.Redirect(SafeReturn(context.Request.Query["post_logout_redirect_uri"]));
        }).WithMetadata(new HostOwnEndpoint());
    }

    private static Who? Read(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 2048)
        {
            return null;
        }

        try
        {
            var who = JsonSerializer.Deserialize<Who>(Convert.FromBase64String(cookie));
            return who is { Name.Length: > 0, ObjectId.Length: > 0, Role.Length: > 0 } ? who : null;
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
            return null;
        }
    }

    // Only a local path: the page must not be an open redirect.
    private static string SafeReturn(string? value) =>
        !string.IsNullOrEmpty(value) && value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal) && !value.Contains('\\', StringComparison.Ordinal)
            ? value
            : "/api/console/";

    private static string Page(string returnTo, string? error = null) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Local sign-in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>body{font:16px system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:1rem 0 .3rem}
        input,select,button{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}button{margin-top:1.2rem}.note{color:#666;font-size:.9rem}.error{color:#b00020}</style>
        </head><body>
        <h1>Local sign-in</h1>
        <p class="note">The local Functions host's stand-in for Entra ID sign-in. It exists only locally; in Azure, App Service Authentication signs people in.</p>
        {{(error is null ? "" : $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(error)}</p>")}}
        <form method="post" action="{{LoginPath}}">
          <input type="hidden" name="return" value="{{WebUtility.HtmlEncode(returnTo)}}">
          <label for="name">Name</label><input id="name" name="name" maxlength="100" required autofocus>
          <label for="role">Role</label>
          <select id="role" name="role">
            <option value="{{OperatorPrincipal.OperatorRoleName}}">{{OperatorPrincipal.OperatorRoleName}} (every action)</option>
            <option value="{{OperatorPrincipal.ViewerRoleName}}">{{OperatorPrincipal.ViewerRoleName}} (read only)</option>
          </select>
          <button type="submit">Sign in</button>
        </form>
        </body></html>
        """;

    private sealed record Who(string Name, string ObjectId, string Role);
}
