using Microsoft.Extensions.Options;
using Parley.Consumers;
using Parley.Identity.Tokens;
using Parley.Security;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Authentication;

/// <summary>A visitor signed in: the authenticated consumer, the device's new visitor token, and the caller it acts as.</summary>
public sealed record SignedIn(Consumer Consumer, string VisitorToken, ConsumerCaller Caller, ConsumerIdentity Identity);

/// <summary>What a page presents to log a visitor in before the chat: exactly one of a JWT, or an authorization code with Parley's state.</summary>
public sealed record PreChatProof(string? Jwt, string? Code, string? State, string? RedirectUri, string? CodeVerifier, string? Assertion);

/// <summary>
/// The use case "sign a visitor in": a page JWT (implicit flow) or an authorization code (code
/// flow) becomes a device session of the authenticated consumer tenant + iss + sub, or a refusal
/// with the OAuth error, the failed check and a description. REST and the WebSocket both call it;
/// each surface only turns a refusal (<see cref="ParleyException"/> with
/// <see cref="ParleyException.FailedCheck"/>) into its own answer.
/// </summary>
public sealed partial class VisitorSignIn(
    IAuthenticationSettingsStore settingsStore,
    IConsumerStore consumerStore,
    IConversationStore conversationStore,
    ILoginStateStore loginStateStore,
    SessionRevocation revocation,
    Messaging.ConversationLifecycle lifecycle,
    AuthenticationSettingsResolver resolver,
    TokenValidator validator,
    Audit.AuditLog audit,
    TimeProvider time,
    IOptions<ParleyOptions> options,
    ILogger<VisitorSignIn> logger)
{
    /// <summary>The deployment's authentication settings; a deployment without them takes anonymous visitors only.</summary>
    public async Task<AuthenticationSettings> SettingsOfAsync(Deployment deployment, CancellationToken cancellationToken) =>
        deployment.AuthenticationSettingsId is { } settingsId
        && await settingsStore.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is { } settings
        && settings.TenantId == deployment.TenantId
            ? settings
            : throw ParleyException.Invalid("This deployment has no authentication settings; it only takes anonymous visitors.");

    /// <summary>
    /// Pre-chat login: validates the page's proof against the deployment's settings and signs the
    /// visitor in, or refuses (logged and audited without the token).
    /// </summary>
    public async Task<SignedIn> PreChatAsync(Deployment deployment, PreChatProof proof, CancellationToken cancellationToken)
    {
        var given = new[] { proof.Jwt, proof.Code, proof.Assertion }.Count(v => v is not null);
        if (given > 1)
        {
            throw SignInRefusal.Of(SignInRefusal.Result(OAuthErrors.InvalidRequest, "request",
                "Send exactly one of \"jwt\" (implicit flow) or \"code\" with its \"state\" (code flow)."));
        }

        if (proof.Assertion is not null)
        {
            throw SignInRefusal.Of(SignInRefusal.Result(OAuthErrors.InvalidRequest, "request",
                "A custom login page's assertion answers a mid-chat login link: send it to /api/v1/consumer/conversations/{id}/authenticate."));
        }

        var settings = await SettingsOfAsync(deployment, cancellationToken);
        var result = SignInRefusal.WrongFlow(settings, proof.Jwt, proof.Code) ?? SignInRefusal.NotAnEventToken(proof.Jwt is { } jwt
            ? await validator.ValidateAsync(jwt, resolver.ValidationSettings(settings), resolver.KeySource(settings), cancellationToken)
            : await ExchangeCodeAsync(deployment, settings, proof, cancellationToken));
        if (!result.IsValid)
        {
            LogRefused(logger, deployment.Id, result.Error!, result.FailedCheck!);
            await audit.RecordAsync(deployment.TenantId, Audit.AuditKinds.Login, Audit.AuditEvent.Refused, null, deployment.Id,
                reason: result.FailedCheck, detail: result.Error);
            throw SignInRefusal.Of(result);
        }

        var signedIn = await SignInAsync(result.Identity!, deployment, settings, cancellationToken);
        LogAuthenticated(logger, deployment.Id, signedIn.Consumer.Id);
        await audit.RecordAsync(deployment.TenantId, Audit.AuditKinds.Login, Audit.AuditEvent.Succeeded, signedIn.Caller, deployment.Id,
            subject: result.Identity!.Subject, detail: proof.Code is null ? "page token (implicit)" : "authorization code");
        return signedIn;
    }

    /// <summary>
    /// Makes a validated identity the device's consumer: the authenticated consumer tenant + iss +
    /// sub (created on first login), what the token proved, and a new device session that ends when
    /// the authentication does (the settings' session TTL, else the token's exp). One transaction.
    /// </summary>
    public async Task<SignedIn> SignInAsync(
        ConsumerIdentity identity, Deployment deployment, AuthenticationSettings settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var authenticatedUntil = AuthenticatedUntil(identity, settings, now);
        var expires = new[] { now + options.Value.VisitorSessionLifetime, authenticatedUntil }.Min();
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        var consumer = await consumerStore.SignInAsync(deployment.TenantId, identity.Issuer, identity.Subject, now, consumer => (
            new VerifiedIdentity(consumer.Id, identity.Issuer, identity.Subject, identity.VerifiedClaims, identity.ContextVariables, identity.Acr, now, expires,
                identity.AuthTime, identity.Amr is { Count: > 0 } amr ? string.Join(' ', amr) : null),
            new ConsumerSession(hash, consumer.Id, deployment.TenantId, deployment.Id, now, expires)), cancellationToken);
        return new SignedIn(consumer, token, new ConsumerCaller(consumer.Id, deployment.TenantId, deployment.Id, hash, expires), identity);
    }

    /// <summary>
    /// When a login ends: the settings' session TTL after it, else the token's <c>exp</c>. A token
    /// accepted after its <c>exp</c> (within the clock skew: the brand's clock and Parley's differ)
    /// holds until Parley would stop accepting the token itself, <c>exp</c> + clock skew, so that a
    /// session never starts already ended.
    /// </summary>
    public static DateTimeOffset AuthenticatedUntil(ConsumerIdentity identity, AuthenticationSettings settings, DateTimeOffset now)
    {
        if (settings.SessionTtlMinutes is { } ttl)
        {
            return now.AddMinutes(ttl);
        }

        if (identity.ExpiresAt > now)
        {
            return identity.ExpiresAt;
        }

        var accepted = identity.ExpiresAt + TimeSpan.FromSeconds(settings.ClockSkewSeconds);
        return accepted > now ? accepted : now.AddSeconds(1);
    }

    /// <summary>
    /// A visitor logs out on this device (<c>Parley.logout()</c>, a brand's logout): the device's
    /// session ends and its open sockets close; the customer's other devices keep theirs. For a
    /// logged-in customer, their open authenticated conversations on this deployment get
    /// <c>authentication.logged_out</c>, so the agent knows the customer left.
    /// </summary>
    public async Task SignOutAsync(ConsumerCaller caller, CancellationToken cancellationToken)
    {
        await revocation.EndConsumerSessionAsync(caller, "logged out", cancellationToken);
        if (await consumerStore.GetConsumerAsync(caller.ConsumerId, cancellationToken) is not { IsAuthenticated: true } consumer)
        {
            return;
        }

        var open = (await conversationStore.ListConversationsByConsumerAsync(consumer.Id, cancellationToken))
            .Where(c => c is { Status: Conversations.ConversationStatus.Open, Authenticated: true } && c.DeploymentId == caller.DeploymentId);
        foreach (var conversation in open)
        {
            await lifecycle.RecordAsync(conversation, Messaging.SystemEvent.OfSystem(Messaging.SystemEvents.AuthenticationLoggedOut,
                new System.Text.Json.Nodes.JsonObject { ["at"] = time.GetUtcNow().ToString("O"), ["scope"] = "device" }), cancellationToken);
        }

        await audit.RecordAsync(caller.TenantId, Audit.AuditKinds.Logout, Audit.AuditEvent.Succeeded, caller, caller.DeploymentId,
            subject: consumer.Subject, detail: "logged out on one device");
    }

    /// <summary>
    /// Code flow: the state must be one Parley issued for this deployment, unused and unexpired;
    /// the code is exchanged with Parley's client credentials and PKCE verifier, and the id_token
    /// must carry the nonce Parley issued with that state.
    /// </summary>
    private async Task<TokenValidationResult> ExchangeCodeAsync(
        Deployment deployment, AuthenticationSettings settings, PreChatProof proof, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(proof.Code) || string.IsNullOrEmpty(proof.State))
        {
            return SignInRefusal.Result(OAuthErrors.InvalidRequest, "state", "The code flow needs \"code\" and the \"state\" Parley issued.");
        }

        var state = await loginStateStore.ConsumeLoginStateAsync(OpaqueToken.Hash(proof.State), time.GetUtcNow(), cancellationToken);
        if (state is null || state.DeploymentId != deployment.Id || state.ConversationId is not null)
        {
            return SignInRefusal.Result(OAuthErrors.InvalidGrant, "state", "The login state is unknown, expired, already used, or for another deployment. Start the login again.");
        }

        if (proof.RedirectUri is not null && proof.RedirectUri != state.RedirectUri)
        {
            return SignInRefusal.Result(OAuthErrors.InvalidGrant, "redirect_uri", "redirectUri is not the one the login started with.");
        }

        return await resolver.ExchangeCodeAsync(settings, proof.Code, state, proof.CodeVerifier, cancellationToken);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Visitor authenticated on deployment {DeploymentId} as consumer {ConsumerId}")]
    private static partial void LogAuthenticated(ILogger logger, Guid deploymentId, Guid consumerId);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Visitor token refused on deployment {DeploymentId}: {Error} at check {Check}")]
    private static partial void LogRefused(ILogger logger, Guid deploymentId, string error, string check);
}

/// <summary>Refused logins, shaped like the identity core's results, as the error every surface reports.</summary>
public static class SignInRefusal
{
    /// <summary>A refusal decided by Parley itself (state, flow, endpoints), shaped like the identity core's.</summary>
    public static TokenValidationResult Result(string error, string check, string description) =>
        new() { Error = error, FailedCheck = check, Description = description, Checks = [new TokenCheck(check, false, description)] };

    /// <summary>
    /// A record takes its own flow only: a code-flow record refuses a bare token (which would skip
    /// PKCE, the nonce and the client secret), and an implicit record refuses a code.
    /// </summary>
    public static TokenValidationResult? WrongFlow(AuthenticationSettings settings, string? jwt, string? code) => settings.Flow switch
    {
        AuthenticationFlow.Code when jwt is not null => Result(OAuthErrors.InvalidRequest, "flow",
            "These authentication settings use the authorization code flow: send the code with its state, not a token."),
        AuthenticationFlow.Implicit when code is not null => Result(OAuthErrors.InvalidRequest, "flow",
            "These authentication settings take a token from the page (implicit flow), not an authorization code."),
        _ => null,
    };

    /// <summary>
    /// A security event token (a back-channel logout token carries <c>events</c>) is never a login,
    /// whatever else it passes: it was issued to end a session, not to start one.
    /// </summary>
    public static TokenValidationResult NotAnEventToken(TokenValidationResult result) =>
        result.IsValid && result.Claims is { } claims && claims.TryGetProperty("events", out _)
            ? Result(OAuthErrors.InvalidToken, "events", "This is a security event token (it carries \"events\", as a logout token does), not a login.")
            : result;

    /// <summary>A refused token or code as REST and WebSocket clients get it: the OAuth code, the failed check and its description.</summary>
    public static ParleyException Of(TokenValidationResult result) =>
        new(result.Error!, result.Description!, result.Error switch
        {
            OAuthErrors.TemporarilyUnavailable => StatusCodes.Status503ServiceUnavailable,
            OAuthErrors.InvalidRequest => StatusCodes.Status400BadRequest,
            OAuthErrors.ServerError or OAuthErrors.InvalidClient or OAuthErrors.UnauthorizedClient => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status401Unauthorized,
        }, retryable: result.Error == OAuthErrors.TemporarilyUnavailable)
        {
            FailedCheck = result.FailedCheck,
        };
}
