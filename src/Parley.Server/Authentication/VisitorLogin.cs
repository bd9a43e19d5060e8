using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Identity.Tokens;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>Starts a code-flow login: where the page should send the visitor to log in.</summary>
public sealed record CodeLoginRequest(Guid DeploymentId, string RedirectUri);

/// <summary>
/// A login in progress: the single-use <c>State</c>, the <c>Nonce</c> the id_token must carry, the
/// PKCE challenge (Parley keeps the verifier), and the brand's authorization URL with all of them.
/// </summary>
public sealed record CodeLoginResponse(string State, string Nonce, string CodeChallenge, string CodeChallengeMethod, string? AuthorizationUrl, DateTimeOffset ExpiresAt);

/// <summary>
/// How a visitor logs in before the chat: with the page's JWT (implicit) or an authorization code
/// (code flow, after <c>POST /api/v1/sessions/login</c>). Used by the consumer session endpoint.
/// </summary>
public static partial class VisitorLogin
{
    public static WebApplication MapVisitorLogin(this WebApplication app)
    {
        app.MapPost("/api/v1/sessions/login", StartLoginAsync).AllowAnonymous().RequireCors(Messenger.MessengerEndpoints.CorsPolicy)
            .RequireRateLimiting(Security.AbuseLimits.SessionsPolicy);
        return app;
    }

    /// <summary>
    /// Pre-chat implicit flow: the page's JWT is validated against the deployment's authentication
    /// settings; the visitor becomes the authenticated consumer tenant + iss + sub, so every device
    /// where they log in finds the same conversations. The device session ends when the
    /// authentication does (token exp, or the settings' session TTL).
    /// </summary>
    public static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ProblemHttpResult>> AuthenticateAsync(
        CreateSessionRequest request,
        Tenants.Deployment deployment,
        HttpContext context,
        IConsumerStore consumerStore,
        IAuthenticationSettingsStore settingsStore,
        ILoginStateStore loginStateStore,
        ConversationService conversations,
        TimeProvider time,
        IOptions<ParleyOptions> options,
        CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Authentication");
        var settings = await SettingsOfAsync(deployment, settingsStore, cancellationToken);
        var resolver = services.GetRequiredService<AuthenticationSettingsResolver>();
        TokenValidationResult result;
        if (request.Jwt is { } jwt)
        {
            result = await services.GetRequiredService<TokenValidator>().ValidateAsync(
                jwt, resolver.ValidationSettings(settings), resolver.KeySource(settings), cancellationToken);
        }
        else
        {
            result = await ExchangeCodeAsync(request, deployment, settings, resolver, loginStateStore, time, cancellationToken);
        }

        var audit = services.GetRequiredService<Audit.AuditLog>();
        if (!result.IsValid)
        {
            LogRefused(logger, deployment.Id, result.Error!, result.FailedCheck!);
            await audit.RecordAsync(deployment.TenantId, Audit.AuditKinds.Login, Audit.AuditEvent.Refused, null, deployment.Id,
                reason: result.FailedCheck, detail: result.Error);
            var status = Refusal(result).Status;
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"{result.Error}\", error_description=\"{result.Description!.Replace("\"", "'", StringComparison.Ordinal)}\"";
            return TypedResults.Problem(
                title: result.Error,
                detail: result.Description,
                statusCode: status,
                extensions: new Dictionary<string, object?>
                {
                    ["code"] = result.Error,
                    ["error"] = result.Error,
                    ["error_description"] = result.Description,
                    ["failedCheck"] = result.FailedCheck,
                });
        }

        var (consumer, token, caller) = await SignInAsync(result.Identity!, deployment, settings, consumerStore, time, options.Value, cancellationToken);
        LogAuthenticated(logger, deployment.Id, consumer.Id);
        await audit.RecordAsync(deployment.TenantId, Audit.AuditKinds.Login, Audit.AuditEvent.Succeeded, caller, deployment.Id,
            subject: result.Identity!.Subject, detail: request.Code is null ? "page token (implicit)" : "authorization code");
        var list = await conversations.ListForConsumerAsync(caller, cancellationToken);
        var show = ConsumerApi.OpenOn(list, deployment.Id);
        if (show is null
            && await services.GetRequiredService<CallerAuthenticator>().AuthenticateConsumerAsync(request.VisitorToken, cancellationToken) is { } device
            && device.DeploymentId == deployment.Id
            && await consumerStore.GetConsumerAsync(device.ConsumerId, cancellationToken) is { IsAuthenticated: false })
        {
            // No authenticated conversation to continue: the device's anonymous one stays on the page,
            // still anonymous and not associated with the logged-in customer.
            show = ConsumerApi.OpenOn(await conversations.ListForConsumerAsync(device, cancellationToken), deployment.Id);
        }

        return TypedResults.Created("/api/v1/consumer/conversations",
            new SessionResponse(token, consumer.Id, true, caller.SessionExpiresAt, list.Select(c => c.ToConsumerView()).ToList(), show));
    }

    /// <summary>
    /// Makes a validated identity the device's consumer: the authenticated consumer tenant + iss +
    /// sub (created on first login), what the token proved, and a new device session that ends when
    /// the authentication does (the settings' session TTL, else the token's exp).
    /// </summary>
    internal static async Task<(Consumer Consumer, string VisitorToken, ConsumerCaller Caller)> SignInAsync(
        ConsumerIdentity identity,
        Tenants.Deployment deployment,
        AuthenticationSettings settings,
        IConsumerStore consumerStore,
        TimeProvider time,
        ParleyOptions options,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var authenticatedUntil = settings.SessionTtlMinutes is { } ttl ? now.AddMinutes(ttl) : identity.ExpiresAt;
        var expires = new[] { now + options.VisitorSessionLifetime, authenticatedUntil }.Min();
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        var consumer = await consumerStore.SignInAsync(deployment.TenantId, identity.Issuer, identity.Subject, now, consumer => (
            new VerifiedIdentity(consumer.Id, identity.Issuer, identity.Subject, identity.VerifiedClaims, identity.ContextVariables, identity.Acr, now, expires),
            new ConsumerSession(hash, consumer.Id, deployment.TenantId, deployment.Id, now, expires)), cancellationToken);
        return (consumer, token, new ConsumerCaller(consumer.Id, deployment.TenantId, deployment.Id, hash, expires));
    }

    /// <summary>A refused token or code as the error REST and WebSocket clients get: the OAuth code and the failed check's description.</summary>
    internal static ParleyException Refusal(TokenValidationResult result) =>
        new(result.Error!, result.Description!, result.Error switch
        {
            OAuthErrors.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
            OAuthErrors.InvalidRequest => StatusCodes.Status400BadRequest,
            OAuthErrors.ServerError or OAuthErrors.InvalidClient or OAuthErrors.UnauthorizedClient => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status401Unauthorized,
        }, retryable: result.Error == OAuthErrors.TemporarilyUnavailable);

    internal static async Task<AuthenticationSettings> SettingsOfAsync(
        Tenants.Deployment deployment, IAuthenticationSettingsStore settingsStore, CancellationToken cancellationToken) =>
        deployment.AuthenticationSettingsId is { } settingsId
        && await settingsStore.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is { } settings
        && settings.TenantId == deployment.TenantId
            ? settings
            : throw ParleyException.Invalid("This deployment has no authentication settings; it only takes anonymous visitors.");

    /// <summary>
    /// Code flow: the state must be one Parley issued for this deployment, unused and unexpired;
    /// the code is exchanged with Parley's client credentials and PKCE verifier, and the id_token
    /// must carry the nonce Parley issued with that state.
    /// </summary>
    private static async Task<TokenValidationResult> ExchangeCodeAsync(
        CreateSessionRequest request,
        Tenants.Deployment deployment,
        AuthenticationSettings settings,
        AuthenticationSettingsResolver resolver,
        ILoginStateStore loginStateStore,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Code) || string.IsNullOrEmpty(request.State))
        {
            return Refused(OAuthErrors.InvalidRequest, "state", "The code flow needs \"code\" and the \"state\" Parley issued.");
        }

        var state = await loginStateStore.ConsumeLoginStateAsync(OpaqueToken.Hash(request.State), time.GetUtcNow(), cancellationToken);
        if (state is null || state.DeploymentId != deployment.Id || state.ConversationId is not null)
        {
            return Refused(OAuthErrors.InvalidGrant, "state", "The login state is unknown, expired, already used, or for another deployment. Start the login again.");
        }

        if (request.RedirectUri is not null && request.RedirectUri != state.RedirectUri)
        {
            return Refused(OAuthErrors.InvalidGrant, "redirect_uri", "redirectUri is not the one the login started with.");
        }

        return await resolver.ExchangeCodeAsync(settings, request.Code, state, request.CodeVerifier, cancellationToken);
    }

    /// <summary>
    /// Starts a code-flow login for a deployment: a single-use state (<c>Parley:LoginLinkLifetime</c>), a nonce and a
    /// PKCE challenge; the redirect URI must be on one of the deployment's allowed origins.
    /// </summary>
    private static async Task<Ok<CodeLoginResponse>> StartLoginAsync(
        CodeLoginRequest request, IDeploymentStore deploymentStore, IAuthenticationSettingsStore settingsStore, LoginLinks links, CancellationToken cancellationToken)
    {
        var deployment = await deploymentStore.GetDeploymentAsync(request.DeploymentId, cancellationToken) ?? throw ParleyException.NotFound("The deployment");
        var settings = await SettingsOfAsync(deployment, settingsStore, cancellationToken);
        if (settings.Flow != AuthenticationFlow.Code)
        {
            throw ParleyException.Invalid("This deployment's authentication settings use the implicit flow; send the page's JWT as \"jwt\".");
        }

        if (!Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var redirect)
            || !deployment.AllowsOrigin(redirect.GetLeftPart(UriPartial.Authority)))
        {
            throw ParleyException.Invalid("redirectUri must be an absolute URL on one of the deployment's allowed origins.");
        }

        return TypedResults.Ok(await links.StartPreChatAsync(settings, deployment.Id, request.RedirectUri, cancellationToken));
    }

    /// <summary>A refusal decided by Parley itself (state, flow, endpoints), shaped like the identity core's.</summary>
    internal static TokenValidationResult Refused(string error, string check, string description) =>
        new() { Error = error, FailedCheck = check, Description = description, Checks = [new TokenCheck(check, false, description)] };

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Visitor authenticated on deployment {DeploymentId} as consumer {ConsumerId}")]
    private static partial void LogAuthenticated(ILogger logger, Guid deploymentId, Guid consumerId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Visitor token refused on deployment {DeploymentId}: {Error} at check {Check}")]
    private static partial void LogRefused(ILogger logger, Guid deploymentId, string error, string check);
}
