using System.Collections.Frozen;
using Parley.Operations;

namespace Parley.Workspace;

/// <summary>
/// The agent workspace and admin console (<c>src/Parley.Workspace</c>, built into the assembly):
/// <c>/app/</c> is the page, <c>/app/assets/*</c> its hashed scripts and styles. The page calls the
/// same public REST and WebSocket API as any client (docs/api.md, docs/protocol.md), with the
/// agent cookie, under a strict content security policy.
/// </summary>
public static class WorkspaceEndpoints
{
    public const string BasePath = "/app";
    private const string ResourcePrefix = "Parley.App.";

    /// <summary>
    /// Scripts and styles only from Parley (no inline code, no eval), sockets and API calls only to
    /// Parley, never framed, nothing sent to other sites in the Referer.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "media-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private static readonly FrozenDictionary<string, EmbeddedAsset> Assets = EmbeddedAsset.Load(ResourcePrefix) is { Count: > 0 } assets
        ? assets.ToFrozenDictionary(StringComparer.Ordinal)
        : throw new InvalidOperationException("The workspace web app is not embedded: build src/Parley.Workspace (dotnet build does it when npm is installed).");

    public static IEndpointRouteBuilder MapWorkspace(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect(BasePath + "/")).AllowAnonymous().ExcludeFromDescription();
        // Routing treats /app and /app/ alike; the page's relative links need the slash.
        app.MapMethods(BasePath, [HttpMethods.Get, HttpMethods.Head], (HttpContext context) =>
            context.Request.Path.Value!.EndsWith('/') ? Serve(context, "index.html") : Results.Redirect(BasePath + "/")).AllowAnonymous();
        app.MapMethods(BasePath + "/assets/{file}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string file) => Serve(context, "assets/" + file)).AllowAnonymous();
        return app;
    }

    private static IResult Serve(HttpContext context, string path)
    {
        if (!Assets.TryGetValue(path, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        if (path == "index.html")
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            headers.CacheControl = "no-cache";
        }
        else
        {
            // Vite puts a content hash in every asset's name: a changed file has a new name.
            headers.CacheControl = "public, max-age=31536000, immutable";
        }

        return asset.Result(context);
    }
}
