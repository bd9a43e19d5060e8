using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Parley.Authentication;
using Parley.Conversations;
using Parley.Identity.Tokens;
using Parley.Security;
using Parley.Storage;

namespace Parley.Consumers;

/// <summary>
/// Starts or resumes a device's session. <c>Jwt</c> is the token the page's JS function returned
/// (pre-chat implicit flow); without it the visitor is anonymous.
/// </summary>
public sealed record CreateSessionRequest(
    Guid DeploymentId,
    string? VisitorToken,
    string? Jwt = null,
    string? Code = null,
    string? State = null,
    string? RedirectUri = null,
    string? CodeVerifier = null);

/// <summary>Starts a code-flow login: where the page should send the visitor to log in.</summary>
public sealed record CodeLoginRequest(Guid DeploymentId, string RedirectUri);

/// <summary>
/// A login in progress: the single-use <c>State</c>, the <c>Nonce</c> the id_token must carry, the
/// PKCE challenge (Parley keeps the verifier), and the brand's authorization URL with all of them.
/// </summary>
public sealed record CodeLoginResponse(string State, string Nonce, string CodeChallenge, string CodeChallengeMethod, string? AuthorizationUrl, DateTimeOffset ExpiresAt);

public sealed record SessionResponse(
    string VisitorToken, Guid ConsumerId, bool Authenticated, DateTimeOffset ExpiresAt, IReadOnlyList<ConsumerConversationView> Conversations);

public sealed record MessagePage(IReadOnlyList<MessageView> Items, long? NextAfter);

public static partial class ConsumerApi
{
    /// <summary>The consumer REST API under <c>/api/v1</c> (docs/api.md).</summary>
    public static WebApplication MapConsumerApi(this WebApplication app)
    {
        app.MapPost("/api/v1/sessions", CreateSessionAsync).AllowAnonymous();
        app.MapPost("/api/v1/sessions/login", StartLoginAsync).AllowAnonymous();

        var consumer = app.MapGroup("/api/v1/consumer").RequireAuthorization(CallerSchemes.Consumer);
        consumer.MapGet("/conversations", ListAsync);
        consumer.MapGet("/conversations/{conversationId:guid}", GetAsync);
        consumer.MapGet("/conversations/{conversationId:guid}/messages", MessagesAsync);
        return app;
    }

    /// <summary>
    /// Starts a visitor session on a device, or resumes it when the device presents its visitor
    /// token. An unknown or expired token starts a new anonymous visitor.
    /// </summary>
    private static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ProblemHttpResult>> CreateSessionAsync(
        CreateSessionRequest request,
        HttpContext context,
        IParleyStore store,
        CallerAuthenticator authenticator,
        ConversationService conversations,
        TimeProvider time,
        IOptions<ParleyOptions> options,
        CancellationToken cancellationToken)
    {
        var deployment = await store.GetDeploymentAsync(request.DeploymentId, cancellationToken);
        if (deployment is null)
        {
            throw ParleyException.NotFound("The deployment");
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !deployment.AllowsOrigin(origin))
        {
            throw new ParleyException(ErrorCodes.OriginNotAllowed, "This origin is not allowed for the deployment.", StatusCodes.Status403Forbidden);
        }

        if (request.Jwt is not null || request.Code is not null)
        {
            return await AuthenticatedSessionAsync(request, deployment, context, store, conversations, time, options, cancellationToken);
        }

        if (await authenticator.AuthenticateConsumerAsync(request.VisitorToken, cancellationToken) is { } existing
            && existing.DeploymentId == deployment.Id)
        {
            var session = await store.GetConsumerSessionAsync(existing.SessionHash, cancellationToken);
            var consumer = await store.GetConsumerAsync(existing.ConsumerId, cancellationToken);
            var list = await conversations.ListForConsumerAsync(existing, cancellationToken);
            return TypedResults.Ok(new SessionResponse(
                request.VisitorToken!, existing.ConsumerId, consumer!.IsAuthenticated, session!.ExpiresAt, list.Select(c => c.ToConsumerView()).ToList()));
        }

        var now = time.GetUtcNow();
        var visitor = Consumer.Anonymous(deployment.TenantId, now);
        await store.CreateConsumerAsync(visitor, cancellationToken);
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        var expires = now + options.Value.VisitorSessionLifetime;
        await store.CreateConsumerSessionAsync(new ConsumerSession(hash, visitor.Id, deployment.TenantId, deployment.Id, now, expires), cancellationToken);
        return TypedResults.Created("/api/v1/consumer/conversations", new SessionResponse(token, visitor.Id, false, expires, []));
    }

    /// <summary>
    /// Pre-chat implicit flow: the page's JWT is validated against the deployment's authentication
    /// settings; the visitor becomes the authenticated consumer tenant + iss + sub, so every device
    /// where they log in finds the same conversations. The device session ends when the
    /// authentication does (token exp, or the settings' session TTL).
    /// </summary>
    private static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ProblemHttpResult>> AuthenticatedSessionAsync(
        CreateSessionRequest request,
        Tenants.Deployment deployment,
        HttpContext context,
        IParleyStore store,
        ConversationService conversations,
        TimeProvider time,
        IOptions<ParleyOptions> options,
        CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Authentication");
        var settings = await SettingsOfAsync(deployment, store, cancellationToken);
        var resolver = services.GetRequiredService<AuthenticationSettingsResolver>();
        TokenValidationResult result;
        if (request.Jwt is { } jwt)
        {
            result = await services.GetRequiredService<TokenValidator>().ValidateAsync(
                jwt, resolver.ValidationSettings(settings), resolver.KeySource(settings), cancellationToken);
        }
        else
        {
            result = await ExchangeCodeAsync(request, deployment, settings, resolver, services, store, time, cancellationToken);
        }

        if (!result.IsValid)
        {
            LogRefused(logger, deployment.Id, result.Error!, result.FailedCheck!);
            var status = result.Error switch
            {
                OAuthErrors.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
                OAuthErrors.InvalidRequest => StatusCodes.Status400BadRequest,
                OAuthErrors.ServerError or OAuthErrors.InvalidClient or OAuthErrors.UnauthorizedClient => StatusCodes.Status502BadGateway,
                _ => StatusCodes.Status401Unauthorized,
            };
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

        var identity = result.Identity!;
        var now = time.GetUtcNow();
        var consumer = await store.GetOrCreateAuthenticatedConsumerAsync(deployment.TenantId, identity.Issuer, identity.Subject, now, cancellationToken);
        var authenticatedUntil = settings.SessionTtlMinutes is { } ttl ? now.AddMinutes(ttl) : identity.ExpiresAt;
        var expires = new[] { now + options.Value.VisitorSessionLifetime, authenticatedUntil }.Min();
        await store.SaveVerifiedIdentityAsync(
            new VerifiedIdentity(consumer.Id, identity.Issuer, identity.Subject, identity.VerifiedClaims, identity.ContextVariables, identity.Acr, now, expires),
            cancellationToken);
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        await store.CreateConsumerSessionAsync(new ConsumerSession(hash, consumer.Id, deployment.TenantId, deployment.Id, now, expires), cancellationToken);
        LogAuthenticated(logger, deployment.Id, consumer.Id);
        var caller = new ConsumerCaller(consumer.Id, deployment.TenantId, deployment.Id, hash, expires);
        var list = await conversations.ListForConsumerAsync(caller, cancellationToken);
        return TypedResults.Created("/api/v1/consumer/conversations",
            new SessionResponse(token, consumer.Id, true, expires, list.Select(c => c.ToConsumerView()).ToList()));
    }

    private static async Task<Authentication.AuthenticationSettings> SettingsOfAsync(
        Tenants.Deployment deployment, IParleyStore store, CancellationToken cancellationToken) =>
        deployment.AuthenticationSettingsId is { } settingsId
        && await store.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is { } settings
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
        Authentication.AuthenticationSettings settings,
        AuthenticationSettingsResolver resolver,
        IServiceProvider services,
        IParleyStore store,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        static TokenValidationResult Refused(string error, string check, string description) =>
            new() { Error = error, FailedCheck = check, Description = description, Checks = [new TokenCheck(check, false, description)] };

        if (settings.Flow != Authentication.AuthenticationFlow.Code || settings.ProtectedClientSecret is null)
        {
            return Refused(OAuthErrors.UnauthorizedClient, "flow", "These authentication settings are not set up for the code flow (flow \"code\" and a client secret).");
        }

        if (string.IsNullOrEmpty(request.Code) || string.IsNullOrEmpty(request.State))
        {
            return Refused(OAuthErrors.InvalidRequest, "state", "The code flow needs \"code\" and the \"state\" Parley issued.");
        }

        var state = await store.ConsumeLoginStateAsync(OpaqueToken.Hash(request.State), time.GetUtcNow(), cancellationToken);
        if (state is null || state.DeploymentId != deployment.Id || state.ConversationId is not null)
        {
            return Refused(OAuthErrors.InvalidGrant, "state", "The login state is unknown, expired, already used, or for another deployment. Start the login again.");
        }

        if (request.RedirectUri is not null && request.RedirectUri != state.RedirectUri)
        {
            return Refused(OAuthErrors.InvalidGrant, "redirect_uri", "redirectUri is not the one the login started with.");
        }

        var keys = resolver.KeySource(settings);
        var tokenEndpoint = settings.TokenEndpoint is { } configured
            ? new Uri(configured)
            : keys is Identity.Keys.DiscoveryKeySource discovery ? (await discovery.GetMetadataAsync(cancellationToken)).TokenEndpoint : null;
        if (tokenEndpoint is null)
        {
            return Refused(OAuthErrors.ServerError, "token_endpoint", "The settings have no token endpoint (set tokenEndpoint or discoveryUrl).");
        }

        var client = new Identity.CodeFlow.CodeExchangeClient(
            services.GetRequiredService<IHttpClientFactory>().CreateClient(AuthenticationSettingsResolver.HttpClientName),
            services.GetRequiredService<TokenValidator>(),
            resolver.KeySourceOptions);
        return await client.ExchangeAsync(
            new Identity.CodeFlow.CodeExchangeRequest(
                tokenEndpoint, settings.ClientId, resolver.Unprotect(settings.ProtectedClientSecret), Identity.CodeFlow.ClientAuthentication.ClientSecretBasic,
                request.Code, state.RedirectUri, request.CodeVerifier ?? state.CodeVerifier),
            resolver.ValidationSettings(settings, state.Nonce),
            keys,
            cancellationToken);
    }

    /// <summary>
    /// Starts a code-flow login for a deployment: a single-use state (10 minutes), a nonce and a
    /// PKCE challenge; the redirect URI must be on one of the deployment's allowed origins.
    /// </summary>
    private static async Task<Ok<CodeLoginResponse>> StartLoginAsync(
        CodeLoginRequest request, IParleyStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var deployment = await store.GetDeploymentAsync(request.DeploymentId, cancellationToken) ?? throw ParleyException.NotFound("The deployment");
        var settings = await SettingsOfAsync(deployment, store, cancellationToken);
        if (settings.Flow != Authentication.AuthenticationFlow.Code)
        {
            throw ParleyException.Invalid("This deployment's authentication settings use the implicit flow; send the page's JWT as \"jwt\".");
        }

        if (!Uri.TryCreate(request.RedirectUri, UriKind.Absolute, out var redirect)
            || !deployment.AllowsOrigin(redirect.GetLeftPart(UriPartial.Authority)))
        {
            throw ParleyException.Invalid("redirectUri must be an absolute URL on one of the deployment's allowed origins.");
        }

        var (state, stateHash) = OpaqueToken.Create("pls_");
        var nonce = Base64UrlRandom();
        var verifier = Base64UrlRandom();
        var challenge = Identity.Jose.Base64Url.Encode(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(verifier)));
        var now = time.GetUtcNow();
        var expires = now.AddMinutes(10);
        await store.CreateLoginStateAsync(
            new Authentication.LoginState(stateHash, deployment.TenantId, deployment.Id, null, nonce, verifier, request.RedirectUri, now, expires), cancellationToken);
        var authorizationUrl = settings.AuthorizationEndpoint is { } endpoint
            ? endpoint + (endpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?") + string.Join("&", new Dictionary<string, string>
            {
                ["response_type"] = "code",
                ["client_id"] = settings.ClientId,
                ["redirect_uri"] = request.RedirectUri,
                ["scope"] = "openid profile email",
                ["state"] = state,
                ["nonce"] = nonce,
                ["code_challenge"] = challenge,
                ["code_challenge_method"] = "S256",
            }.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"))
            : null;
        return TypedResults.Ok(new CodeLoginResponse(state, nonce, challenge, "S256", authorizationUrl, expires));
    }

    private static string Base64UrlRandom() => Identity.Jose.Base64Url.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Visitor authenticated on deployment {DeploymentId} as consumer {ConsumerId}")]
    private static partial void LogAuthenticated(ILogger logger, Guid deploymentId, Guid consumerId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Visitor token refused on deployment {DeploymentId}: {Error} at check {Check}")]
    private static partial void LogRefused(ILogger logger, Guid deploymentId, string error, string check);

    private static async Task<Ok<IReadOnlyList<ConsumerConversationView>>> ListAsync(
        HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<ConsumerConversationView>>(
            (await conversations.ListForConsumerAsync(context.Caller<ConsumerCaller>(), cancellationToken)).Select(c => c.ToConsumerView()).ToList());

    private static async Task<Ok<ConsumerConversationView>> GetAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok((await conversations.GetAsync(context.Caller<ConsumerCaller>(), conversationId, cancellationToken)).ToConsumerView());

    private static Task<Ok<MessagePage>> MessagesAsync(
        Guid conversationId, long? after, int? limit, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        Page(context.Caller<ConsumerCaller>(), conversationId, after, limit, conversations, cancellationToken);

    /// <summary>One page of history after a seq; <c>nextAfter</c> is set while more may follow.</summary>
    public static async Task<Ok<MessagePage>> Page(
        Caller caller, Guid conversationId, long? after, int? limit, ConversationService conversations, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(limit ?? 50, 1, 200);
        var items = await conversations.HistoryAsync(caller, conversationId, after ?? 0, size, cancellationToken);
        return TypedResults.Ok(new MessagePage(items.Select(m => m.ToView()).ToList(), items.Count == size ? items[^1].Seq : null));
    }
}
