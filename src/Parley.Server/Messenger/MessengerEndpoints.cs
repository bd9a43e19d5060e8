using System.Net;
using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Authentication;
using Parley.Operations;
using Parley.Security;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Messenger;

/// <summary>What the messenger needs to know about a deployment's login: the flow and the page's JS function.</summary>
/// <summary>
/// How the widget logs a visitor in: the flow, the page's function, and whether the messenger can
/// send the visitor to the brand's login page itself (a login link: the Log in button after an expiry).
/// </summary>
public sealed record MessengerAuthenticationView(string Flow, string JsClientFunction, bool LoginLinks);

/// <summary>
/// A deployment's messenger, as the widget reads it before it opens (public: it holds nothing a
/// visitor may not see). <c>WindowUrl</c> is Parley's page for the separate-window mode.
/// </summary>
public sealed record MessengerView(Guid DeploymentId, string Title, WindowMode WindowMode, MessengerAuthenticationView? Authentication, Uri WindowUrl)
{
    /// <summary>Logged-in visitors only: the widget shows its launcher on logged-in pages only.</summary>
    public bool AuthenticatedOnly { get; init; }
}

/// <summary>An admin's view of a deployment's messenger: its settings and the snippet to paste into the brand's pages.</summary>
public sealed record MessengerAdminView(Guid DeploymentId, string Name, IReadOnlyList<string> AllowedOrigins, Guid? AuthenticationSettingsId, MessengerSettings Messenger, string Snippet);

/// <summary>
/// The messenger widget (<c>/widget.js</c>, built from <c>src/Parley.Widget</c>), its separate
/// window (<c>/messenger/{deploymentId}</c>), the public configuration it reads, and the admin API
/// for a deployment's messenger settings (docs/widget.md).
/// </summary>
public static class MessengerEndpoints
{
    /// <summary>CORS for what the widget calls from a brand's origin; the handlers check the origin against the deployment.</summary>
    public const string CorsPolicy = "parley-messenger";

    private static readonly EmbeddedAsset Widget = EmbeddedAsset.Load("Parley.Messenger.").GetValueOrDefault("widget.js")
        ?? throw new InvalidOperationException("The messenger's widget.js is not embedded: build src/Parley.Widget (dotnet build does it when npm is installed).");

    public static IServiceCollection AddMessenger(this IServiceCollection services) =>
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
            .SetIsOriginAllowed(_ => true)
            .WithMethods("GET", "POST")
            .WithHeaders("content-type", "authorization")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));

    public static IEndpointRouteBuilder MapMessenger(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/widget.js", [HttpMethods.Get, HttpMethods.Head], WidgetScript).AllowAnonymous();
        app.MapGet("/messenger/{deploymentId:guid}", WindowPageAsync).AllowAnonymous();
        app.MapGet("/api/v1/deployments/{deploymentId:guid}/messenger", ViewAsync).AllowAnonymous().RequireCors(CorsPolicy);

        var admin = app.MapGroup("/api/v1/admin/deployments/{deploymentId:guid}/messenger").RequireAuthorization(CallerSchemes.Admin);
        admin.MapGet("/", AdminViewAsync);
        admin.MapPut("/", PutAsync);
        return app;
    }

    /// <summary>The widget script. Brands load it from Parley, so it is cacheable and revalidated by ETag.</summary>
    private static IResult WidgetScript(HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        context.Response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        return Widget.Result(context);
    }

    private static async Task<Ok<MessengerView>> ViewAsync(
        Guid deploymentId, HttpContext context, IDeploymentStore deploymentStore, IAuthenticationSettingsStore settingsStore, PublicAddress address, CancellationToken cancellationToken)
    {
        var deployment = await deploymentStore.GetDeploymentAsync(deploymentId, cancellationToken) ?? throw ParleyException.NotFound("The deployment");
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !deployment.AllowsMessengerFrom(context.Request, origin))
        {
            throw new ParleyException(ErrorCodes.OriginNotAllowed, "This origin is not allowed for the deployment.", StatusCodes.Status403Forbidden);
        }

        var settings = deployment.AuthenticationSettingsId is { } id ? await settingsStore.GetAuthenticationSettingsAsync(id, cancellationToken) : null;
        var messenger = deployment.Messenger ?? new MessengerSettings();
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Ok(new MessengerView(
            deployment.Id,
            messenger.Title is { Length: > 0 } title ? title : deployment.Name,
            messenger.WindowMode,
            settings is null ? null : new MessengerAuthenticationView(settings.Flow == AuthenticationFlow.Code ? "code" : "implicit", settings.JsClientFunction,
                LoginLinks: settings.AuthorizationEndpoint is not null || settings.DiscoveryUrl is not null),
            address.Resolve($"/messenger/{deployment.Id}")) { AuthenticatedOnly = messenger.AuthenticatedOnly && settings is not null });
    }

    /// <summary>
    /// The messenger in a separate browser window on Parley's origin: the widget fills the page.
    /// The brand's scripts never run here, so a login happens by redirecting this window.
    /// </summary>
    private static async Task<IResult> WindowPageAsync(Guid deploymentId, HttpContext context, IDeploymentStore deploymentStore, CancellationToken cancellationToken)
    {
        if (await deploymentStore.GetDeploymentAsync(deploymentId, cancellationToken) is not { } deployment)
        {
            throw ParleyException.NotFound("The deployment");
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        var title = WebUtility.HtmlEncode(deployment.Messenger?.Title is { Length: > 0 } t ? t : deployment.Name);
        return Results.Content($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title}</title><link rel="icon" href="data:,"></head>
            <body style="margin:0;background:#f6f7f9">
            <script src="/widget.js" data-deployment="{deployment.Id}" data-mode="page"></script>
            </body></html>
            """, "text/html; charset=utf-8");
    }

    private static async Task<Ok<MessengerAdminView>> AdminViewAsync(
        Guid deploymentId, HttpContext context, IDeploymentStore deploymentStore, PublicAddress address, CancellationToken cancellationToken) =>
        TypedResults.Ok(AdminView(await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken), address));

    private static async Task<Ok<MessengerAdminView>> PutAsync(
        Guid deploymentId, MessengerSettings request, HttpContext context, IDeploymentStore deploymentStore, PublicAddress address, Audit.AuditLog audit,
        CancellationToken cancellationToken)
    {
        var deployment = await context.OwnDeploymentAsync(deploymentStore, deploymentId, cancellationToken);
        if (request.Validate() is { } problem)
        {
            throw ParleyException.Invalid(problem);
        }

        var messenger = request with { Title = string.IsNullOrWhiteSpace(request.Title) ? null : request.Title.Trim() };
        await deploymentStore.SetDeploymentMessengerAsync(deploymentId, messenger, cancellationToken);
        await audit.ChangedAsync(context, Audit.AuditKinds.MessengerChanged, deploymentId, $"window mode {(messenger.WindowMode == WindowMode.Window ? "window" : "embedded")}");
        return TypedResults.Ok(AdminView(deployment with { Messenger = messenger }, address));
    }

    internal static MessengerAdminView AdminView(Deployment deployment, PublicAddress address) => new(
        deployment.Id,
        deployment.Name,
        deployment.AllowedOrigins,
        deployment.AuthenticationSettingsId,
        deployment.Messenger ?? new MessengerSettings(),
        $"""<script src="{address.Resolve("/widget.js")}" data-deployment="{deployment.Id}" async></script>""");
}
