using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Audit;
using Parley.Conversations;
using Parley.Identity.Tokens;
using Parley.Messaging;
using Parley.Security;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0: the brand's identity provider tells Parley, server to
/// server, that a customer logged out there. The logout token is checked as the specification says
/// (the settings' keys and algorithms, <c>iss</c>, <c>aud</c>, <c>iat</c>, <c>exp</c>, a <c>jti</c>
/// never seen before by any node, the back-channel logout event, no <c>nonce</c>); then every device
/// session of that customer ends, their open sockets are closed on every node, and each of their
/// open authenticated conversations gets an <c>authentication.logged_out</c> event, which agents see.
/// </summary>
/// <remarks>
/// Parley ends a customer's logins by <c>sub</c>: a token with only <c>sid</c> is refused with a
/// description saying so (an IdP includes <c>sub</c> unless told otherwise).
/// </remarks>
public sealed partial class BackChannelLogout(
    IAuthenticationSettingsStore settingsStore,
    IConsumerStore consumerStore,
    IConversationStore conversationStore,
    IUsedTokenStore usedTokens,
    AuthenticationSettingsResolver resolver,
    TokenValidator validator,
    SessionRevocation revocation,
    ConversationLifecycle lifecycle,
    AuditLog audit,
    TimeProvider time,
    ILogger<BackChannelLogout> logger)
{
    public const string LogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    /// <summary>Applies a logout token sent for <paramref name="settingsId"/>; returns how many device sessions ended.</summary>
    public async Task<int> LogOutAsync(Guid settingsId, string? logoutToken, CancellationToken cancellationToken)
    {
        var settings = await settingsStore.GetAuthenticationSettingsAsync(settingsId, cancellationToken)
            ?? throw ParleyException.NotFound("The authentication settings");
        if (string.IsNullOrWhiteSpace(logoutToken))
        {
            throw Refused("request", "Send the logout token as the form field logout_token.");
        }

        var checks = resolver.ValidationSettings(settings) with { AcceptedTypes = ["logout+jwt", "JWT"], RequireIssuedAt = true };
        var result = await validator.ValidateAsync(logoutToken, checks, resolver.KeySource(settings), cancellationToken);
        if (!result.IsValid)
        {
            throw Refused(result.FailedCheck!, result.Description!);
        }

        var claims = result.Claims!.Value;
        if (claims.TryGetProperty("nonce", out _))
        {
            throw Refused("nonce", "A logout token must not carry a nonce (Back-Channel Logout 1.0 §2.4).");
        }

        if (!claims.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object
            || !events.TryGetProperty(LogoutEvent, out var logout) || logout.ValueKind != JsonValueKind.Object)
        {
            throw Refused("events", $"A logout token carries \"events\" with the member \"{LogoutEvent}\" holding an object.");
        }

        if (!claims.TryGetProperty("jti", out var jti) || jti.ValueKind != JsonValueKind.String || jti.GetString() is not { Length: > 0 } id)
        {
            throw Refused("jti", "A logout token carries a \"jti\" (a string), so that a replay can be refused.");
        }

        var identity = result.Identity!;
        var idHash = OpaqueToken.Hash($"logout:{settings.Id}:{identity.Issuer}:{id}");
        if (await usedTokens.IsTokenIdUsedAsync(idHash, cancellationToken))
        {
            throw Refused("jti", "This logout token was used before.");
        }

        if (await consumerStore.FindAuthenticatedConsumerAsync(settings.TenantId, identity.Issuer, identity.Subject, cancellationToken) is not { } consumer)
        {
            LogNobody(logger, settings.Id);
            await SpendAsync(idHash, identity, settings, cancellationToken);
            return 0; // never logged in here: nothing to end, and the IdP did nothing wrong
        }

        var ended = await revocation.EndConsumerEverywhereAsync(consumer.TenantId, consumer.Id, "logged out at the brand's site", cancellationToken);
        var open = (await conversationStore.ListConversationsByConsumerAsync(consumer.Id, cancellationToken))
            .Where(c => c is { Status: ConversationStatus.Open, Authenticated: true });
        foreach (var conversation in open)
        {
            await lifecycle.RecordAsync(conversation, SystemEvent.OfSystem(SystemEvents.AuthenticationLoggedOut,
                new JsonObject { ["at"] = time.GetUtcNow().ToString("O"), ["scope"] = "everywhere" }), cancellationToken);
        }

        LogLoggedOut(logger, settings.Id, consumer.Id, ended);
        await SpendAsync(idHash, identity, settings, cancellationToken);
        await audit.RecordAsync(settings.TenantId, AuditKinds.Logout, AuditEvent.Succeeded, null, subject: identity.Subject,
            detail: $"back-channel logout from the identity provider: {ended} device session(s) ended");
        return ended;
    }

    /// <summary>
    /// Marks the token used once its work is done (ending sessions is safe to repeat): an IdP that
    /// retries after a failure still logs the customer out, and a replay afterwards is refused.
    /// </summary>
    private async Task SpendAsync(string idHash, Identity.Tokens.ConsumerIdentity identity, AuthenticationSettings settings, CancellationToken cancellationToken)
    {
        if (!await usedTokens.TryUseTokenIdAsync(idHash, identity.ExpiresAt + TimeSpan.FromSeconds(settings.ClockSkewSeconds), cancellationToken))
        {
            LogRefused(logger, "jti"); // two deliveries at once: both did the same work
        }
    }

    /// <summary>A refused logout token: 400 with the OAuth error, the failed check and why (§2.8).</summary>
    private ParleyException Refused(string check, string description)
    {
        LogRefused(logger, check);
        return new ParleyException(OAuthErrors.InvalidRequest, description) { FailedCheck = check };
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Back-channel logout for settings {SettingsId}: consumer {ConsumerId}, {Sessions} device session(s) ended")]
    private static partial void LogLoggedOut(ILogger logger, Guid settingsId, Guid consumerId, int sessions);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Back-channel logout for settings {SettingsId}: the customer never logged in here")]
    private static partial void LogNobody(ILogger logger, Guid settingsId);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "A back-channel logout token was refused at the check {Check}")]
    private static partial void LogRefused(ILogger logger, string check);
}

public static class BackChannelLogoutEndpoints
{
    /// <summary>
    /// <c>POST /auth/backchannel-logout/{settingsId}</c>: the settings record's back-channel logout
    /// URI, to register at the brand's identity provider (form field <c>logout_token</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapBackChannelLogout(this IEndpointRouteBuilder app)
    {
        app.MapPost("/auth/backchannel-logout/{settingsId:guid}", async Task<Microsoft.AspNetCore.Http.HttpResults.Ok> (
                Guid settingsId, HttpContext context, BackChannelLogout logout, CancellationToken cancellationToken) =>
            {
                var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(cancellationToken) : null;
                await logout.LogOutAsync(settingsId, form?["logout_token"].ToString(), cancellationToken);
                context.Response.Headers.CacheControl = "no-store";
                return TypedResults.Ok();
            })
            .AllowAnonymous()
            .DisableAntiforgery();
        return app;
    }
}
