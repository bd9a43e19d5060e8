using Parley.Authentication;
using Parley.Messaging;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Parley.Bots;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using Parley.Security;
using Parley.Storage;

namespace Parley.Conversations;

/// <summary>
/// What the messenger sends to authenticate a conversation mid-chat: the <c>state</c> from the
/// login link with what the login returned (<c>code</c>, an id_token as <c>jwt</c>, or a custom
/// login page's <c>assertion</c>), or just a fresh <c>jwt</c> from the brand's page.
/// </summary>
public sealed record AuthenticateConversationRequest(string? State = null, string? Code = null, string? Jwt = null, string? Assertion = null);

/// <summary>The device's new authenticated session and the upgraded conversation.</summary>
public sealed record ConversationAuthenticated(string VisitorToken, Guid ConsumerId, DateTimeOffset ExpiresAt, ConsumerConversationView Conversation)
{
    /// <summary>The caller the device's connections act as from now on.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ConsumerCaller Caller { get; init; } = null!;
}

/// <summary>
/// Completes a mid-chat login: the anonymous conversation becomes the authenticated consumer's, in
/// place and with its history; both sides see an <c>authentication.upgraded</c> event, a
/// conversation waiting for an agent is routed again on the verified facts, and the bot case that
/// asked for the login continues.
/// </summary>
/// <remarks>
/// The login is applied only when the device that owns the conversation presents the result with
/// its own visitor token, and the state was issued for that conversation and that consumer. A login
/// link forwarded to someone else therefore cannot attach their identity to the sender's
/// conversation (login CSRF): the brand's redirect reaches Parley's callback page, which only
/// hands the result to the messenger that opened it.
/// </remarks>
public sealed partial class MidChatLogin(
    IDeploymentStore deploymentStore, IConsumerStore consumerStore, IConversationStore conversationStore, ILoginStateStore loginStateStore,
    VisitorSignIn signIn,
    BotResponder bots,
    Routing.Router router,
    Routing.AutoAssigner assigner,
    ConversationLifecycle lifecycle,
    AuthenticationSettingsResolver resolver,
    TokenValidator validator,
    TimeProvider time,
    Audit.AuditLog audit,
    MidChatLoginLimiter limiter,
    LoginLinks links,
    LoginLinkLimiter linkLimiter,
    ILogger<MidChatLogin> logger)
{
    /// <summary>How old a custom login page's assertion may be.</summary>
    private static readonly TimeSpan MaxAssertionAge = TimeSpan.FromMinutes(10);

    /// <summary>How long a login by assertion holds when the settings give no session TTL.</summary>
    private static readonly TimeSpan AssertionLoginLifetime = TimeSpan.FromHours(1);

    /// <summary>
    /// A fresh login link for the caller's open conversation (the messenger's Log in button, e.g.
    /// when a login expired where the page cannot renew it): the same single-use link the bot
    /// sends, bound to the conversation and to this device's consumer. A device whose login ended
    /// may ask (within the renewal window): the login it gets renews the same customer only.
    /// </summary>
    public async Task<LoginLink> LoginLinkAsync(ConsumerCaller caller, Guid conversationId, CancellationToken cancellationToken)
    {
        var conversation = await OwnConversationAsync(caller, conversationId, cancellationToken);
        if (!conversation.IsOpen)
        {
            throw new ParleyException(ErrorCodes.ConversationClosed, "The conversation is closed; resume it before logging in to it.", StatusCodes.Status409Conflict);
        }

        if (!linkLimiter.TryAcquire(conversationId))
        {
            // Each link is a stored login state: the same budget as the bot's links for this conversation.
            throw new ParleyException(ErrorCodes.RateLimited, "Too many login links for this conversation; use the last one, or try again in a few minutes.",
                StatusCodes.Status429TooManyRequests, retryable: true) { RetryAfter = TimeSpan.FromMinutes(10) };
        }

        // A case waiting for this login may ask for an assurance level or a login age: the link asks for them too.
        var assurance = (await bots.BotOfAsync(conversation.DeploymentId, cancellationToken))?.Find(conversation.BotCase)?.Assurance;
        return await links.CreateAsync(conversation, cancellationToken, assurance)
            ?? throw new ParleyException(ErrorCodes.AuthenticationMisconfigured,
                "This deployment has no login page to send the visitor to (no authentication settings with an authorization endpoint).", StatusCodes.Status409Conflict);
    }

    public async Task<ConversationAuthenticated> AuthenticateAsync(
        ConsumerCaller caller, Guid conversationId, AuthenticateConversationRequest request, CancellationToken cancellationToken)
    {
        // The device's session, ended or not, still says whose conversation it is.
        var conversation = await OwnConversationAsync(caller, conversationId, cancellationToken);
        if (!limiter.TryAcquire(conversationId))
        {
            // Before any check or audit row: a flood of forged tokens costs one counter.
            throw new ParleyException(ErrorCodes.RateLimited, "Too many login attempts for this conversation; try again in a minute.",
                StatusCodes.Status429TooManyRequests, retryable: true) { RetryAfter = TimeSpan.FromMinutes(1) };
        }

        if (!conversation.IsOpen)
        {
            throw new ParleyException(ErrorCodes.ConversationClosed, "The conversation is closed; resume it before logging in to it.", StatusCodes.Status409Conflict);
        }

        var deployment = await deploymentStore.GetDeploymentAsync(conversation.DeploymentId, cancellationToken) ?? throw ParleyException.NotFound("The deployment");
        var settings = await signIn.SettingsOfAsync(deployment, cancellationToken);
        var (state, refusal) = await CheckRequestAsync(caller, conversation, settings, request, cancellationToken);
        var result = refusal ?? SignInRefusal.NotAnEventToken(await ValidateAsync(settings, request, state, cancellationToken));
        if (result.IsValid && state?.Assurance?.Shortfall(result.Identity!.Acr, result.Identity.AuthTime, time.GetUtcNow(), TimeSpan.FromSeconds(settings.ClockSkewSeconds)) is { } shortfall)
        {
            // The link asked the identity provider for more than this login proves (a step-up for a bot case).
            result = SignInRefusal.Result(OAuthErrors.InsufficientUserAuthentication, shortfall, shortfall == "acr"
                ? $"The login's assurance level (acr \"{result.Identity!.Acr}\") is not one this case asks for ({state.Assurance!.AcrValues})."
                : $"The login is older than this case allows ({state.Assurance!.MaxAgeSeconds} s), or the identity provider did not say when it happened (auth_time).");
        }

        if (!result.IsValid)
        {
            LogRefused(logger, conversationId, result.Error!, result.FailedCheck!);
            await audit.RecordAsync(conversation.TenantId, Audit.AuditKinds.MidChatLogin, Audit.AuditEvent.Refused, caller, deployment.Id, conversationId,
                reason: result.FailedCheck, detail: result.Error);
            throw SignInRefusal.Of(result);
        }

        var identity = result.Identity!;
        if (request.Assertion is not null && settings.SessionTtlMinutes is null)
        {
            // An assertion's exp only bounds its own freshness; the login holds for an hour unless the settings say otherwise.
            identity = identity with { ExpiresAt = time.GetUtcNow() + AssertionLoginLifetime };
        }

        var owner = await consumerStore.GetOrCreateAuthenticatedConsumerAsync(deployment.TenantId, identity.Issuer, identity.Subject, time.GetUtcNow(), cancellationToken);
        var renewing = caller.SessionExpiresAt <= time.GetUtcNow();
        if (renewing && owner.Id != caller.ConsumerId)
        {
            // An ended device session renews its own customer's login only: it is no credential for anything else.
            LogRefused(logger, conversationId, OAuthErrors.InvalidGrant, "subject");
            await audit.RecordAsync(conversation.TenantId, Audit.AuditKinds.MidChatLogin, Audit.AuditEvent.Refused, caller, deployment.Id, conversationId,
                identity.Subject, "subject", "a renewal by another customer than the one whose login ended");
            throw SignInRefusal.Of(SignInRefusal.Result(OAuthErrors.InvalidGrant, "subject",
                "This device's login has ended; it can be renewed by the same customer only. Start a new session to log in as someone else."));
        }

        Conversation? mergedInto = null;
        if (conversation.ConsumerId != owner.Id)
        {
            mergedInto = await JoinCustomerAsync(caller, conversation, owner.Id, identity.Subject, cancellationToken);
        }

        var (_, token, session, _) = await signIn.SignInAsync(identity, deployment, settings, cancellationToken);
        if (renewing)
        {
            await consumerStore.DeleteConsumerSessionAsync(caller.SessionHash, cancellationToken); // renewed: the ended session is spent
        }

        Conversation upgraded;
        if (mergedInto is not null)
        {
            // The customer's open conversation continues; what the device wrote before the login is in it now.
            upgraded = mergedInto;
            await router.TryRerouteAsync(upgraded.Id);
            if (conversation.AssignedAgentId is { } left && left != upgraded.AssignedAgentId)
            {
                await assigner.TryAssignWaitingAsync(conversation.TenantId); // the merged conversation's agent has room again
            }

            if (upgraded.AssignedAgentId is null && conversation.BotCase is not null)
            {
                _ = bots.OnAuthenticatedAsync(upgraded with { BotCase = conversation.BotCase }); // the case that asked for the login goes on
            }
        }
        else
        {
            // Verified facts are in: a conversation waiting for an agent may belong in another queue now.
            await router.TryRerouteAsync(conversationId);
            upgraded = await lifecycle.ChangedAsync(conversationId, SystemEvent.OfSystem(SystemEvents.AuthenticationUpgraded,
                new JsonObject { ["authenticatedUntil"] = session.SessionExpiresAt.ToString("O") }), cancellationToken)
                ?? throw ParleyException.NotFound("The conversation");
            if (!conversation.Authenticated || state?.Assurance is not null)
            {
                _ = bots.OnAuthenticatedAsync(upgraded); // the case that asked for the login (or the step-up) goes on; a renewal asks nothing
            }
        }

        LogUpgraded(logger, conversationId, owner.Id);
        await audit.RecordAsync(conversation.TenantId, Audit.AuditKinds.MidChatLogin, Audit.AuditEvent.Succeeded, session, deployment.Id, conversationId,
            identity.Subject, detail: mergedInto is null
                ? $"authenticated until {session.SessionExpiresAt:O}"
                : $"authenticated until {session.SessionExpiresAt:O}; merged into the customer's open conversation {mergedInto.Id}");
        return new ConversationAuthenticated(token, owner.Id, session.SessionExpiresAt, upgraded.ToConsumerView()) { Caller = session };
    }

    /// <summary>
    /// Gives the customer who logged in the device's anonymous conversation: moved to them in place,
    /// or, when they already have an open conversation on the deployment (on another device, or
    /// opened meanwhile by a concurrent login), merged into that one, which is returned.
    /// </summary>
    private async Task<Conversation?> JoinCustomerAsync(
        ConsumerCaller caller, Conversation conversation, Guid customerId, string subject, CancellationToken cancellationToken)
    {
        // A few rounds at most: another round only when another device's login or close raced this one.
        for (var attempt = 0; attempt < 3 && !conversation.Authenticated; attempt++)
        {
            var outcome = await conversationStore.TransferConversationAsync(
                conversation.Id, conversation.ConsumerId, customerId, authenticated: true, time.GetUtcNow(), cancellationToken);
            if (outcome == TransferOutcome.Transferred)
            {
                return null;
            }

            if (outcome == TransferOutcome.NotOwned)
            {
                break;
            }

            var open = (await conversationStore.ListConversationsByConsumerAsync(customerId, cancellationToken))
                .FirstOrDefault(c => c.IsOpen && c.DeploymentId == conversation.DeploymentId);
            if (open is not null && await lifecycle.MergeAsync(conversation, open.Id, cancellationToken) is { } merged)
            {
                LogMerged(logger, conversation.Id, merged.Into.Id, merged.Merge.Copied.Count);
                return merged.Into;
            }
        }

        LogRefused(logger, conversation.Id, OAuthErrors.InvalidGrant, "subject");
        await audit.RecordAsync(conversation.TenantId, Audit.AuditKinds.MidChatLogin, Audit.AuditEvent.Refused, caller, conversation.DeploymentId, conversation.Id,
            subject, "subject", "the conversation belongs to another logged-in customer");
        throw SignInRefusal.Of(SignInRefusal.Result(OAuthErrors.InvalidGrant, "subject",
            "This conversation belongs to another logged-in customer; the login was not applied to it."));
    }

    /// <summary>
    /// The device's conversation. Not ConversationService.GetAsync: that refuses a device whose login
    /// has ended, and renewing that login is one thing this is for.
    /// </summary>
    private async Task<Conversation> OwnConversationAsync(ConsumerCaller caller, Guid conversationId, CancellationToken cancellationToken) =>
        await conversationStore.GetConversationAsync(conversationId, cancellationToken) is { } found && found.ConsumerId == caller.ConsumerId
            ? found
            : throw ParleyException.NotFound("The conversation");

    /// <summary>
    /// The request's shape, the record's flow, and the login link's single-use state (consumed
    /// here, after the cheaper checks, so a malformed request spends nothing): the state, or why
    /// the request is refused before any token is looked at.
    /// </summary>
    private async Task<(LoginState? State, TokenValidationResult? Refusal)> CheckRequestAsync(
        ConsumerCaller caller, Conversation conversation, AuthenticationSettings settings, AuthenticateConversationRequest request, CancellationToken cancellationToken)
    {
        var given = new[] { request.Code, request.Jwt, request.Assertion }.Count(v => !string.IsNullOrEmpty(v));
        if (given != 1)
        {
            return (null, SignInRefusal.Result(OAuthErrors.InvalidRequest, "request", "Send exactly one of \"code\", \"jwt\" or \"assertion\" (with the login link's \"state\" for a code or an assertion)."));
        }

        if (SignInRefusal.WrongFlow(settings, request.Jwt, request.Code) is { } wrongFlow)
        {
            return (null, wrongFlow);
        }

        if (string.IsNullOrEmpty(request.State))
        {
            return request.Jwt is null
                ? (null, SignInRefusal.Result(OAuthErrors.InvalidRequest, "state", "A code or an assertion needs the \"state\" of the login link it answers."))
                : (null, null);
        }

        var state = await loginStateStore.ConsumeLoginStateAsync(OpaqueToken.Hash(request.State), time.GetUtcNow(), cancellationToken);
        return state is null || state.ConversationId != conversation.Id || state.ConsumerId != caller.ConsumerId
            ? (null, SignInRefusal.Result(OAuthErrors.InvalidGrant, "state",
                "The login state is unknown, expired, already used, or for another conversation. Ask for a new login link."))
            : (state, null);
    }

    /// <summary>What the login returned, checked with the state's nonce: a code exchanged, a custom login page's assertion, or a token.</summary>
    private async Task<TokenValidationResult> ValidateAsync(
        AuthenticationSettings settings, AuthenticateConversationRequest request, LoginState? state, CancellationToken cancellationToken)
    {
        if (request.Code is { } code)
        {
            return await resolver.ExchangeCodeAsync(settings, code, state!, null, cancellationToken);
        }

        if (request.Assertion is { } assertion)
        {
            if (settings.ProtectedSecurityKey is not { } protectedKey)
            {
                return SignInRefusal.Result(OAuthErrors.UnauthorizedClient, "security_key", "These authentication settings have no authentication security key for a custom login page.");
            }

            // The custom login page signs (HS256) the identity it verified together with the login's
            // nonce: an HMAC over the state's binding and the identity, checked like any token.
            var keyed = new TokenValidationSettings
            {
                Issuer = settings.Issuer,
                Audience = settings.ClientId,
                AllowedAlgorithms = ["HS256", "HS384", "HS512"],
                HmacSecret = Encoding.UTF8.GetBytes(resolver.Unprotect(protectedKey)),
                PreviousHmacSecret = settings.LivePreviousSecurityKey(time.GetUtcNow()) is { } previous ? Encoding.UTF8.GetBytes(resolver.Unprotect(previous)) : null,
                ExpectedNonce = state!.Nonce,
                RequireIssuedAt = true,
                MaxTokenAge = MaxAssertionAge,
                ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            };
            return await validator.ValidateAsync(assertion, keyed, new StaticKeySource(KeySet.Empty), cancellationToken);
        }

        return await validator.ValidateAsync(request.Jwt!, resolver.ValidationSettings(settings, state?.Nonce), resolver.KeySource(settings), cancellationToken);
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Conversation {ConversationId} authenticated mid-chat as consumer {ConsumerId}")]
    private static partial void LogUpgraded(ILogger logger, Guid conversationId, Guid consumerId);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Conversation {ConversationId} merged into the customer's open conversation {IntoId} ({Copied} messages copied)")]
    private static partial void LogMerged(ILogger logger, Guid conversationId, Guid intoId, int copied);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Mid-chat login refused for conversation {ConversationId}: {Error} at check {Check}")]
    private static partial void LogRefused(ILogger logger, Guid conversationId, string error, string check);
}

/// <summary>The mid-chat login endpoints: completing a login, and the callback page login links return to.</summary>
public static class MidChatLoginEndpoints
{
    private static readonly string[] CallbackFields = ["state", "code", "id_token", "assertion", "error", "error_description"];

    public static IEndpointRouteBuilder MapMidChatLogin(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/consumer/conversations/{conversationId:guid}/authenticate", AuthenticateAsync)
            .RequireAuthorization(CallerSchemes.Consumer).RequireCors(Messenger.MessengerEndpoints.CorsPolicy)
            .RequireRateLimiting(AbuseLimits.SessionsPolicy)
            .WithMetadata(new RenewsEndedSession());
        app.MapPost("/api/v1/consumer/conversations/{conversationId:guid}/login-link", LoginLinkAsync)
            .RequireAuthorization(CallerSchemes.Consumer).RequireCors(Messenger.MessengerEndpoints.CorsPolicy)
            .RequireRateLimiting(AbuseLimits.SessionsPolicy)
            .WithMetadata(new RenewsEndedSession());
        app.MapGet(LoginLinks.CallbackPath, CallbackPageAsync).AllowAnonymous();
        app.MapPost(LoginLinks.CallbackPath, CallbackPageAsync).AllowAnonymous();
        app.MapPost(LoginLinks.CallbackPath + "/origins", OriginsAsync).AllowAnonymous();
        return app;
    }

    private static async Task<Ok<ConversationAuthenticated>> AuthenticateAsync(
        Guid conversationId, AuthenticateConversationRequest request, HttpContext context, MidChatLogin login, CancellationToken cancellationToken) =>
        TypedResults.Ok(await login.AuthenticateAsync(context.Caller<ConsumerCaller>(), conversationId, request, cancellationToken));

    private static async Task<Ok<LoginLink>> LoginLinkAsync(Guid conversationId, HttpContext context, MidChatLogin login, CancellationToken cancellationToken) =>
        TypedResults.Ok(await login.LoginLinkAsync(context.Caller<ConsumerCaller>(), conversationId, cancellationToken));

    /// <summary>
    /// The redirect URI of mid-chat login links. It changes nothing: it hands what the brand sent
    /// back (query, fragment or form post) to the messenger window that opened it, by postMessage
    /// to the deployment's allowed origins only; a messenger in a separate window on Parley's origin
    /// that redirected here to log in gets it back through that tab's session storage.
    /// </summary>
    private static async Task<ContentHttpResult> CallbackPageAsync(HttpContext context, IDeploymentStore deploymentStore, ILoginStateStore loginStateStore, TimeProvider time, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var form = request.HasFormContentType ? await request.ReadFormAsync(cancellationToken) : null;
        var data = new JsonObject { ["type"] = "parley.login" };
        foreach (var name in CallbackFields)
        {
            var value = form is not null && form.TryGetValue(name, out var posted) ? posted.ToString() : request.Query[name].ToString();
            if (value.Length is > 0 and <= 16 * 1024)
            {
                data[name] = value;
            }
        }

        var (known, origins) = await WhereToAsync(data["state"]?.GetValue<string>(), request, deploymentStore, loginStateStore, time, cancellationToken);
        var payload = new JsonObject { ["known"] = known, ["origins"] = origins, ["data"] = data }.ToJsonString();
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        context.Response.Headers.ContentSecurityPolicy = $"default-src 'none'; script-src '{CallbackScriptHash}'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        var html = CallbackHtml
            .Replace("{{script}}", CallbackScript, StringComparison.Ordinal)
            .Replace("{{payload}}", HtmlEncoder.Default.Encode(payload), StringComparison.Ordinal);
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>
    /// Which windows may receive a login result: Parley's own origin and, for a live state, its
    /// deployment's allowed origins. Known is false for an unknown, used or expired state.
    /// </summary>
    private static async Task<(bool Known, JsonArray Origins)> WhereToAsync(
        string? state, HttpRequest request, IDeploymentStore deploymentStore, ILoginStateStore loginStateStore, TimeProvider time, CancellationToken cancellationToken)
    {
        var origins = new JsonArray($"{request.Scheme}://{request.Host}");
        if (state is not { Length: > 0 and < 200 }
            || await loginStateStore.FindLoginStateAsync(OpaqueToken.Hash(state), time.GetUtcNow(), cancellationToken) is not { } login
            || await deploymentStore.GetDeploymentAsync(login.DeploymentId, cancellationToken) is not { } deployment)
        {
            return (false, origins);
        }

        foreach (var origin in deployment.AllowedOrigins)
        {
            // One postMessage per origin: a brand page on Parley's own origin must not receive the result twice.
            if (!origins.Any(o => string.Equals(o!.GetValue<string>(), origin, StringComparison.OrdinalIgnoreCase)))
            {
                origins.Add(origin);
            }
        }

        return (true, origins);
    }

    /// <summary>For results the brand returned in the fragment (id_token), which the server never sees: the callback page asks here.</summary>
    private static async Task<ContentHttpResult> OriginsAsync(
        CallbackOriginsRequest body, HttpContext context, IDeploymentStore deploymentStore, ILoginStateStore loginStateStore, TimeProvider time, CancellationToken cancellationToken)
    {
        var (known, origins) = await WhereToAsync(body.State, context.Request, deploymentStore, loginStateStore, time, cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Content(new JsonObject { ["known"] = known, ["origins"] = origins }.ToJsonString(), "application/json");
    }

    public sealed record CallbackOriginsRequest(string? State);

    private const string CallbackScript = """
        (function () {
          var p = JSON.parse(document.getElementById('parley-login').getAttribute('data-payload'));
          var d = p.data;
          if (location.hash.length > 1) {
            new URLSearchParams(location.hash.slice(1)).forEach(function (v, k) {
              if (['state', 'code', 'id_token', 'assertion', 'error', 'error_description'].indexOf(k) >= 0) { d[k] = v; }
            });
            history.replaceState(null, '', location.pathname);
          }
          function finish() {
            var back = null;
            try { back = sessionStorage.getItem('parley.return'); } catch (e) { }
            if (back && new URL(back, location.href).origin === location.origin) {
              // The messenger's separate window came here by redirect: take the result back to it.
              try { sessionStorage.removeItem('parley.return'); sessionStorage.setItem('parley.login.result', JSON.stringify(d)); } catch (e) { }
              location.replace(back);
              return;
            }
            var sent = false;
            if (window.opener && !window.opener.closed) {
              p.origins.forEach(function (o) { try { window.opener.postMessage(d, o); sent = true; } catch (e) { } });
            }
            try { localStorage.setItem('parley.login', JSON.stringify(d)); localStorage.removeItem('parley.login'); } catch (e) { }
            document.getElementById('status').textContent = d.error ? 'The login did not complete: ' + (d.error_description || d.error) + '.'
              : !p.known ? 'This login link has expired or was already used. Go back to the chat and ask for a new one.'
              : 'You are logged in. You can close this window and return to the chat.';
            if (sent && !d.error && p.known) { setTimeout(function () { window.close(); }, 300); }
          }
          if (!p.known && d.state) {
            fetch('callback/origins', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: d.state }) })
              .then(function (r) { return r.json(); })
              .then(function (o) { p.known = o.known; p.origins = o.origins; finish(); }, finish);
          } else {
            finish();
          }
        })();
        """;

    private static readonly string CallbackScriptHash =
        "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(CallbackScript)));

    private const string CallbackHtml = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Parley login</title></head>
        <body style="font: 16px system-ui, sans-serif; margin: 2rem; color: #111">
        <p id="status" role="status">Finishing the login…</p>
        <div id="parley-login" data-payload="{{payload}}" hidden></div>
        <script>{{script}}</script>
        </body></html>
        """;
}
