using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Parley.Operations;

namespace Parley.Demo;

/// <summary>The demo brand's pages and identity endpoints (see <see cref="DemoBrand"/>).</summary>
public static class DemoBrandEndpoints
{
    private static readonly string Page = Resource("page.html");

    public static IEndpointRouteBuilder MapDemoBrand(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<DemoOptions>>().Value.Enabled)
        {
            return app;
        }

        var brand = app.MapGroup(DemoBrand.BasePath).AllowAnonymous();
        brand.MapGet("/", (HttpContext context, DemoBrand demo) => Html(context, demo, "Home", $"""
            <div class="card"><h1>Welcome to Demo Bank</h1>
            <p>This is a public page: open the chat (bottom right) as an anonymous visitor. Ask the bot for a
            <em>statement copy</em> and it asks you to log in, then continues in the same conversation.</p>
            <p>On <a href="{DemoBrand.BasePath}/account">My account</a> you are logged in before the chat starts (the page hands
            Parley a signed token); <a href="{DemoBrand.BasePath}/code">Help</a> uses the authorization code flow, and
            <a href="{DemoBrand.BasePath}/window">Contact</a> opens the chat in a separate window.</p></div>
            {Widget(DemoOptions.ImplicitDeploymentId)}
            """));
        brand.MapGet("/code", CodePage);
        brand.MapGet("/window", (HttpContext context, DemoBrand demo) => Html(context, demo, "Contact", $"""
            <div class="card"><h1>Contact us</h1><p>This deployment opens the chat in a separate browser window on
            Parley's site; a login the bot asks for happens by redirecting that window to the bank and back.</p></div>
            {Widget(DemoOptions.WindowDeploymentId)}
            """));
        brand.MapGet("/account", AccountAsync);
        brand.MapGet("/login", (HttpContext context, DemoBrand demo, string? @return) => LoginPage(context, demo, @return, null));
        brand.MapPost("/login", LogInAsync).DisableAntiforgery();
        brand.MapGet("/logout", (HttpContext context) =>
        {
            DemoBrand.LogOut(context);
            return TypedResults.Redirect(DemoBrand.BasePath);
        });
        brand.MapGet("/page-token", (HttpContext context, DemoBrand demo) => demo.LoggedIn(context) is { } user
            ? Results.Json(new { token = demo.Mint(user, nonce: null, demo.TokenLifetime) })
            : Results.Json(new { token = (string?)null }, statusCode: StatusCodes.Status401Unauthorized));
        brand.MapGet("/page-code", PageCode);
        brand.MapGet("/jwks", (DemoBrand demo) => TypedResults.Text(demo.Jwks().ToJsonString(), "application/json"));
        brand.MapGet("/.well-known/openid-configuration", (DemoBrand demo) => TypedResults.Text(demo.Discovery().ToJsonString(), "application/json"));
        brand.MapGet("/authorize", Authorize);
        brand.MapPost("/token", TokenAsync).DisableAntiforgery();
        return app;
    }

    /// <summary>The one line a brand adds to its pages.</summary>
    private static string Widget(Guid deploymentId) =>
        $"""<script src="/widget.js" data-deployment="{deploymentId}" async></script>""";

    /// <summary>
    /// The help page: while the visitor is logged in at the bank it defines
    /// <c>getAuthenticationCode</c> (pre-chat code flow); otherwise the bot asks for a login mid-chat.
    /// </summary>
    private static ContentHttpResult CodePage(HttpContext context, DemoBrand demo)
    {
        var user = demo.LoggedIn(context);
        return Html(context, demo, "Help", $"""
            <div class="card"><h1>Help</h1><p>This deployment uses the OpenID Connect authorization code flow (PKCE,
            nonce, client secret). {(user is null
                ? "You are not logged in: ask the bot for a <em>statement copy</em> and it asks you to log in."
                : "You are logged in: the page hands Parley an authorization code for you before the chat starts.")}</p></div>
            {(user is null ? "" : CodeFunction)}
            {Widget(DemoOptions.CodeFlowDeploymentId)}
            """);
    }

    private static IResult AccountAsync(HttpContext context, DemoBrand demo)
    {
        if (demo.LoggedIn(context) is not { } user)
        {
            return Results.Redirect($"{DemoBrand.BasePath}/login?return={Uri.EscapeDataString(DemoBrand.BasePath + "/account")}");
        }

        return Html(context, demo, "My account", $"""
            <div class="card"><h1>Hello, {Encode(user.GivenName)}</h1>
            <p>Customer number {Encode(user.CustomerId)}{(user.Vip ? " · Gold customer" : "")}.</p>
            <p>This page defines <code>getAuthenticationToken(callback)</code>: the chat calls it and sends the token to Parley,
            so the agent sees your verified identity and your conversation follows you to every device where you log in.</p></div>
            {TokenFunction}
            {Widget(DemoOptions.ImplicitDeploymentId)}
            """);
    }

    /// <summary>
    /// What a brand puts on its logged-in pages: who is logged in (the identity function), and a
    /// fresh token for them when the messenger asks.
    /// </summary>
    /// <summary>The bank's Log out also logs the visitor out of the chat (<c>Parley.logout()</c>), then leaves.</summary>
    private const string LogOutScript =
        "event.preventDefault(); var to = this.href; Promise.resolve(window.Parley && window.Parley.logout && window.Parley.logout())"
        + ".catch(function () {}).then(function () { location.href = to; });";

    internal const string TokenFunction = """
        <script>
        window.getAuthenticationToken = function (callback) {
          fetch('/demo-brand/page-token', { credentials: 'same-origin' })
            .then(function (r) { return r.ok ? r.json() : { token: null }; })
            .then(function (j) { callback(j.token); }, function () { callback(null); });
        };
        window.Parley = window.Parley || {};
        (window.Parley.identities = window.Parley.identities || []).push(function (callback) {
          callback({ iss: location.origin + '/demo-brand', acr: 'loa1', sub: document.body.dataset.customer });
        });
        </script>
        """;

    /// <summary>The code flow on a logged-in page: the bank's backend issues a code for Parley's login request.</summary>
    internal const string CodeFunction = """
        <script>
        window.getAuthenticationCode = function (callback, request) {
          var q = new URLSearchParams({ redirect_uri: request.redirectUri, nonce: request.nonce, code_challenge: request.codeChallenge });
          fetch('/demo-brand/page-code?' + q, { credentials: 'same-origin' })
            .then(function (r) { return r.ok ? r.json() : { code: null }; })
            .then(function (j) { callback(j.code); }, function () { callback(null); });
        };
        </script>
        """;

    /// <summary>The bank's backend for <c>getAuthenticationCode</c>: a code for the logged-in customer, as its authorization endpoint would issue.</summary>
    private static IResult PageCode(HttpContext context, DemoBrand demo, PublicAddress address, string? redirect_uri, string? nonce, string? code_challenge)
    {
        if (demo.LoggedIn(context) is not { } user)
        {
            return Results.Json(new { code = (string?)null }, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!OwnRedirect(context, address, redirect_uri) || string.IsNullOrEmpty(code_challenge))
        {
            return Results.BadRequest(new { error = "invalid_request", error_description = "A redirect_uri on this site and a code_challenge are required." });
        }

        return Results.Json(new { code = demo.IssueCode(user, redirect_uri!, code_challenge, nonce is { Length: > 0 } ? nonce : null) });
    }

    private static bool OwnRedirect(HttpContext context, PublicAddress address, string? redirect) =>
        Uri.TryCreate(redirect, UriKind.Absolute, out var target)
        && (string.Equals(target.GetLeftPart(UriPartial.Authority), address.BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            || string.Equals(target.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase));

    private static ContentHttpResult LoginPage(HttpContext context, DemoBrand demo, string? returnTo, string? error) =>
        Html(context, demo, "Log in", $"""
            <div class="card"><h1>Log in to Demo Bank</h1>
            {(error is null ? "" : $"<p role=\"alert\">{Encode(error)}</p>")}
            <form method="post" action="{DemoBrand.BasePath}/login">
            <input type="hidden" name="return" value="{Encode(LocalPath(returnTo))}">
            <label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
            <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
            <p><button>Log in</button></p></form>
            <p>Demo users: <code>ada</code> (a gold customer) and <code>grace</code>; the password is the demo password (<code>parley-demo</code> by default).</p></div>
            """);

    private static async Task<IResult> LogInAsync(HttpContext context, DemoBrand demo, IOptions<DemoOptions> options)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var user = DemoBrand.Users.FirstOrDefault(u => u.Username == form["username"].ToString());
        if (user is null || form["password"].ToString() != options.Value.Password)
        {
            return LoginPage(context, demo, form["return"], "Unknown user or wrong password.");
        }

        demo.LogIn(context, user);
        return Results.Redirect(LocalPath(form["return"]));
    }

    /// <summary>Only paths on this site are followed after login (no open redirect).</summary>
    private static string LocalPath(string? path) =>
        path is { Length: > 1 } && path[0] == '/' && path[1] != '/' && path[1] != '\\' ? path : DemoBrand.BasePath;

    /// <summary>
    /// The brand's authorization endpoint: asks for a login when needed, then returns a code
    /// (<c>response_type=code</c>, PKCE S256) or an id_token in the fragment (<c>id_token</c>) to
    /// a redirect URI on Parley's own address.
    /// </summary>
    private static IResult Authorize(HttpContext context, DemoBrand demo, PublicAddress address)
    {
        var q = context.Request.Query;
        string redirect = q["redirect_uri"].ToString(), responseType = q["response_type"].ToString(), state = q["state"].ToString();
        if (q["client_id"] != DemoBrand.ClientId || !OwnRedirect(context, address, redirect))
        {
            return Results.BadRequest(new { error = "invalid_request", error_description = "Unknown client_id or a redirect_uri this client may not use." });
        }

        if (demo.LoggedIn(context) is not { } user)
        {
            return Results.Redirect($"{DemoBrand.BasePath}/login?return={Uri.EscapeDataString(context.Request.Path + context.Request.QueryString)}");
        }

        var nonce = q["nonce"].ToString() is { Length: > 0 } n ? n : null;
        switch (responseType)
        {
            case "code":
                var challenge = q["code_challenge"].ToString() is { Length: > 0 } c ? c : null;
                if (challenge is not null && q["code_challenge_method"] != "S256")
                {
                    return Results.Redirect(QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["error"] = "invalid_request", ["state"] = state }));
                }

                var code = demo.IssueCode(user, redirect, challenge, nonce);
                return Results.Redirect(QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["code"] = code, ["state"] = state }));
            case "id_token":
                var fragment = $"id_token={Uri.EscapeDataString(demo.Mint(user, nonce, demo.TokenLifetime))}&state={Uri.EscapeDataString(state)}";
                return Results.Redirect(redirect + "#" + fragment);
            default:
                return Results.Redirect(QueryHelpers.AddQueryString(redirect, new Dictionary<string, string?> { ["error"] = "unsupported_response_type", ["state"] = state }));
        }
    }

    /// <summary>The brand's token endpoint: client_secret_basic or client_secret_post, PKCE, single-use codes.</summary>
    private static async Task<IResult> TokenAsync(HttpContext context, DemoBrand demo)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var (clientId, secret) = (form["client_id"].ToString(), form["client_secret"].ToString());
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            // A malformed header is a client that failed to authenticate (RFC 6749 §5.2), not a crash.
            var encoded = authorization["Basic ".Length..].Trim();
            var decoded = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded, decoded, out var length))
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: StatusCodes.Status401Unauthorized);
            }

            var pair = Encoding.UTF8.GetString(decoded, 0, length).Split(':', 2);
            (clientId, secret) = (WebUtility.UrlDecode(pair[0]), WebUtility.UrlDecode(pair.ElementAtOrDefault(1) ?? ""));
        }

        if (clientId != DemoBrand.ClientId || secret != DemoBrand.ClientSecret)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (form["grant_type"] != "authorization_code")
        {
            return Results.Json(new { error = "unsupported_grant_type" }, statusCode: StatusCodes.Status400BadRequest);
        }

        if (demo.Redeem(form["code"].ToString(), form["redirect_uri"], form["code_verifier"]) is not { } redeemed)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: StatusCodes.Status400BadRequest);
        }

        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new JsonObject
        {
            ["token_type"] = "Bearer",
            ["access_token"] = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
            ["expires_in"] = 600,
            ["id_token"] = demo.Mint(redeemed.User, redeemed.Nonce, demo.TokenLifetime),
        });
    }

    private static ContentHttpResult Html(HttpContext context, DemoBrand demo, string title, string body)
    {
        var user = demo.LoggedIn(context);
        var who = user is null
            ? $"""<a href="{DemoBrand.BasePath}/login">Log in</a>"""
            : $"""{Encode(user.GivenName)} {Encode(user.FamilyName)} · <a href="{DemoBrand.BasePath}/logout" onclick="{LogOutScript}">Log out</a>""";
        return TypedResults.Content(
            Page.Replace("{{title}}", Encode(title), StringComparison.Ordinal)
                .Replace("{{who}}", who, StringComparison.Ordinal)
                .Replace("{{customer}}", Encode(user?.CustomerId), StringComparison.Ordinal)
                .Replace("{{body}}", body, StringComparison.Ordinal),
            "text/html; charset=utf-8");
    }

    private static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Parley.Demo.site." + name)
            ?? throw new InvalidOperationException($"The demo brand's {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
