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
public sealed record CreateSessionRequest(Guid DeploymentId, string? VisitorToken, string? Jwt = null);

public sealed record SessionResponse(
    string VisitorToken, Guid ConsumerId, bool Authenticated, DateTimeOffset ExpiresAt, IReadOnlyList<ConsumerConversationView> Conversations);

public sealed record MessagePage(IReadOnlyList<MessageView> Items, long? NextAfter);

public static partial class ConsumerApi
{
    /// <summary>The consumer REST API under <c>/api/v1</c> (docs/api.md).</summary>
    public static WebApplication MapConsumerApi(this WebApplication app)
    {
        app.MapPost("/api/v1/sessions", CreateSessionAsync).AllowAnonymous();

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

        if (request.Jwt is not null)
        {
            return await AuthenticatedSessionAsync(request.Jwt, deployment, context, store, conversations, time, options, cancellationToken);
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
        string jwt,
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
        if (deployment.AuthenticationSettingsId is not { } settingsId
            || await store.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is not { } settings
            || settings.TenantId != deployment.TenantId)
        {
            throw ParleyException.Invalid("This deployment has no authentication settings; it only takes anonymous visitors.");
        }

        var resolver = services.GetRequiredService<AuthenticationSettingsResolver>();
        var result = await services.GetRequiredService<TokenValidator>().ValidateAsync(
            jwt, resolver.ValidationSettings(settings), resolver.KeySource(settings), cancellationToken);
        if (!result.IsValid)
        {
            LogRefused(logger, deployment.Id, result.Error!, result.FailedCheck!);
            var unavailable = result.Error == OAuthErrors.TemporarilyUnavailable;
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"{result.Error}\", error_description=\"{result.Description!.Replace("\"", "'", StringComparison.Ordinal)}\"";
            return TypedResults.Problem(
                title: result.Error,
                detail: result.Description,
                statusCode: unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status401Unauthorized,
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
