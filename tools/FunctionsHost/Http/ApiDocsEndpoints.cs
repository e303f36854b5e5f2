using Scalar.AspNetCore;

namespace FunctionsHost.Http;

/// <summary>Marks an endpoint the host adds of its own: not one of the Function App's functions (and never in Azure).</summary>
public sealed class HostOwnEndpoint;

/// <summary>
/// The API document (<c>docs/openapi.yaml</c>) at <c>/api/docs/openapi.yaml</c> and an interactive reference of it
/// (Scalar) at <c>/api/docs</c>. Only the local host serves them: the Function App in Azure has no such route.
/// Scalar's script is embedded in its package and served from <c>/api/docs/scalar.js</c>; its default web fonts
/// (from a CDN) are turned off, so the page works without any network.
/// </summary>
internal static class ApiDocsEndpoints
{
    public const string ReferencePath = "/api/docs";
    public const string DocumentPath = "/api/docs/openapi.yaml";

    public static void Map(WebApplication app, string? repositoryRoot, string contentRoot)
    {
        // The repository's file when the host runs from a clone (edits show at once), else the copy built beside it.
        var document = new[] { repositoryRoot is null ? null : Path.Combine(repositoryRoot, "docs", "openapi.yaml"), Path.Combine(contentRoot, "openapi.yaml") }
            .FirstOrDefault(path => path is not null && File.Exists(path));
        if (document is null)
        {
            app.Logger.LogWarning("docs/openapi.yaml not found: {Path} and {Reference} are not served", DocumentPath, ReferencePath);
            return;
        }

        app.MapGet(DocumentPath, () => Results.File(document, "application/yaml; charset=utf-8"))
            .WithMetadata(new HostOwnEndpoint());
        app.MapScalarApiReference(ReferencePath, options => options
                .WithTitle("VendingFunctions API")
                .WithOpenApiRoutePattern(DocumentPath)
                .DisableDefaultFonts())
            .WithMetadata(new HostOwnEndpoint());
    }
}
