using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Parley.Security;

public static class CallerSchemes
{
    public const string Consumer = "Consumer";
    public const string Agent = "Agent";
    public const string AgentCookie = "parley_agent";
    public const string Admin = "Admin";
}

/// <summary>
/// Authenticates REST and WebSocket upgrade requests: visitor tokens (Consumer scheme) from the
/// Authorization header; agent tokens (Agent scheme) from the header or the web app's cookie
/// (with the cookie, a POST, PUT or DELETE must carry Parley's own origin: no cross-site forgery).
/// The resolved caller is kept in <see cref="HttpContext.Items"/> for the endpoints.
/// </summary>
public sealed class CallerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    CallerAuthenticator authenticator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = BearerToken(Request);
        if (token is null && Scheme.Name == CallerSchemes.Agent && Request.Cookies[CallerSchemes.AgentCookie] is { } cookie)
        {
            // Cross-site request forgery: a browser sends the cookie by itself, so a state-changing
            // request that relies on it must come from Parley's own pages. (The cookie is also
            // SameSite=Strict; this holds where SameSite does not, e.g. a sibling subdomain.)
            if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !HttpMethods.IsOptions(Request.Method)
                && !MessengerOrigins.IsSameOrigin(Request, Request.Headers.Origin.ToString()))
            {
                return Refuse(ErrorCodes.Unauthorized, "A cookie-authenticated change must come from Parley's own origin.");
            }

            token = cookie;
        }

        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        // A database outage propagates (StorageUnavailableException → 503 with Retry-After from the
        // exception handler): the caller is not unauthorised, Parley just cannot tell right now.
        Caller? caller;
        if (Scheme.Name == CallerSchemes.Consumer)
        {
            var check = await authenticator.CheckConsumerAsync(token, Context.RequestAborted);
            if (check.Ended && (!check.Renewable || Context.GetEndpoint()?.Metadata.GetMetadata<RenewsEndedSession>() is null))
            {
                return Refuse(ErrorCodes.AuthenticationExpired, "This device's session has ended; log in again (or start a new visitor session).");
            }

            // A route that renews a login (a fresh token for the same conversation) takes the ended session's caller.
            caller = check.Caller ?? check.EndedCaller;
        }
        else
        {
            caller = await authenticator.AuthenticateAgentAsync(token, Context.RequestAborted);
        }

        if (caller is null)
        {
            return Refuse(ErrorCodes.Unauthorized, Scheme.Name == CallerSchemes.Consumer
                ? "The visitor token is unknown or expired (this route takes a visitor token)."
                : "The agent token is unknown or expired (this route takes an agent token).");
        }

        Context.Items[typeof(Caller)] = caller;
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, caller.ParticipantId.ToString()),
                new Claim("tenant", caller.TenantId.ToString()),
                new Claim(ClaimTypes.Role, caller is AgentCaller agent ? agent.AgentRole.ToString().ToLowerInvariant() : "consumer"),
            ],
            Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <summary>
    /// 401 as RFC 6750 §3 says: a bare <c>Bearer</c> challenge when no token came, otherwise
    /// <c>invalid_token</c> with what was wrong; the body is problem details with a stable code.
    /// </summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var refusal = Context.Items[typeof(Refusal)] as Refusal;
        Response.Headers.WWWAuthenticate = refusal is null
            ? "Bearer"
            : BearerChallenge.Of("invalid_token", refusal.Description);
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, refusal?.Code ?? ErrorCodes.Unauthorized,
            refusal?.Description ?? (Scheme.Name == CallerSchemes.Consumer
                ? "This route needs a visitor token: Authorization: Bearer pvt_…"
                : "This route needs an agent token: Authorization: Bearer pat_… (or the workspace's cookie)."));
    }

    /// <summary>403 with <c>insufficient_scope</c> (RFC 6750 §3.1): the caller is known but may not do this.</summary>
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer error=\"insufficient_scope\"";
        await WriteProblemAsync(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
            Scheme.Name == CallerSchemes.Consumer ? "This route is not available to visitors." : "Only the tenant's admins may do this.");
    }

    private AuthenticateResult Refuse(string code, string description)
    {
        Context.Items[typeof(Refusal)] = new Refusal(code, description);
        return AuthenticateResult.Fail(description);
    }

    private async Task WriteProblemAsync(int status, string code, string detail)
    {
        Response.StatusCode = status;
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = code, Detail = detail, Extensions = { ["code"] = code } },
        });
    }

    private sealed record Refusal(string Code, string Description);

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}

public static class CallerExtensions
{
    public static IServiceCollection AddCallerAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<CallerAuthenticator>();
        services.AddSingleton<SessionRevocation>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, CallerAuthenticationHandler>(CallerSchemes.Consumer, null)
            .AddScheme<AuthenticationSchemeOptions, CallerAuthenticationHandler>(CallerSchemes.Agent, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(CallerSchemes.Consumer, p => p.AddAuthenticationSchemes(CallerSchemes.Consumer).RequireRole("consumer"))
            .AddPolicy(CallerSchemes.Agent, p => p.AddAuthenticationSchemes(CallerSchemes.Agent).RequireRole("agent", "admin"))
            .AddPolicy(CallerSchemes.Admin, p => p.AddAuthenticationSchemes(CallerSchemes.Agent).RequireRole("admin"));
        return services;
    }

    /// <summary>The caller the authentication handler resolved for this request.</summary>
    public static T Caller<T>(this HttpContext context) where T : Caller =>
        (T)context.Items[typeof(Caller)]!;
}
