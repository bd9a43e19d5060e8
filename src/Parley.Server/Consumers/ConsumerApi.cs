using Parley.Routing;
using Parley.Messaging;
using Parley.Messenger;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Parley.Authentication;
using Parley.Conversations;
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
    string? CodeVerifier = null,
    string? Assertion = null);


/// <summary>
/// A device session. <c>Conversations</c> are the consumer's (newest first). <c>ShowConversationId</c>
/// is the one conversation the page shows: the open one of this session's consumer on this
/// deployment; for a login that also presented the device's anonymous visitor token, the
/// authenticated open conversation takes priority and the device's anonymous one is shown only when
/// there is none (it stays reachable with the anonymous token after logout).
/// </summary>
public sealed record SessionResponse(
    string VisitorToken,
    Guid ConsumerId,
    bool Authenticated,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<ConsumerConversationView> Conversations,
    Guid? ShowConversationId = null);

public sealed record MessagePage(IReadOnlyList<MessageView> Items, long? NextAfter);

public static class ConsumerApi
{
    /// <summary>The consumer REST API under <c>/api/v1</c> (docs/api.md).</summary>
    public static IEndpointRouteBuilder MapConsumerApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/sessions", CreateSessionAsync).AllowAnonymous().RequireCors(MessengerEndpoints.CorsPolicy).RequireRateLimiting(AbuseLimits.SessionsPolicy);

        var consumer = app.MapGroup("/api/v1/consumer").RequireAuthorization(CallerSchemes.Consumer).RequireCors(MessengerEndpoints.CorsPolicy);
        consumer.MapPost("/session/logout", LogoutAsync).WithMetadata(new RenewsEndedSession());
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
        IDeploymentStore deploymentStore, IConsumerStore consumerStore,
        VisitorSignIn signIn,
        CallerAuthenticator authenticator,
        DeploymentSessionLimiter deploymentLimiter,
        ConversationService conversations,
        TimeProvider time,
        IOptions<ParleyOptions> options,
        CancellationToken cancellationToken)
    {
        var deployment = await deploymentStore.GetDeploymentAsync(ParleyException.RequiredDeploymentId(request.DeploymentId), cancellationToken);
        if (deployment is null)
        {
            throw ParleyException.NotFound("The deployment");
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !deployment.AllowsMessengerFrom(context.Request, origin))
        {
            throw new ParleyException(ErrorCodes.OriginNotAllowed, "This origin is not allowed for the deployment.", StatusCodes.Status403Forbidden);
        }

        if (!deploymentLimiter.TryAcquire(deployment.Id))
        {
            return AbuseLimits.RateLimited(context, TimeSpan.FromMinutes(1));
        }

        if (request.Jwt is not null || request.Code is not null || request.Assertion is not null)
        {
            var signedIn = await signIn.PreChatAsync(deployment,
                new PreChatProof(request.Jwt, request.Code, request.State, request.RedirectUri, request.CodeVerifier, request.Assertion), cancellationToken);
            var mine = await conversations.ListForConsumerAsync(signedIn.Caller, cancellationToken);
            var show = OpenOn(mine, deployment.Id);
            if (show is null
                && await authenticator.AuthenticateConsumerAsync(request.VisitorToken, cancellationToken) is { } device
                && device.DeploymentId == deployment.Id
                && await consumerStore.GetConsumerAsync(device.ConsumerId, cancellationToken) is { IsAuthenticated: false })
            {
                // No authenticated conversation to continue: the device's anonymous one stays on the page,
                // still anonymous and not associated with the logged-in customer.
                show = OpenOn(await conversations.ListForConsumerAsync(device, cancellationToken), deployment.Id);
            }

            return TypedResults.Created("/api/v1/consumer/conversations", new SessionResponse(
                signedIn.VisitorToken, signedIn.Consumer.Id, true, signedIn.Caller.SessionExpiresAt, mine.Select(c => c.ToConsumerView()).ToList(), show));
        }

        var existing = await authenticator.AuthenticateConsumerAsync(request.VisitorToken, cancellationToken) is { } resumed && resumed.DeploymentId == deployment.Id
            ? resumed
            : null;
        var consumer = existing is null ? null : await consumerStore.GetConsumerAsync(existing.ConsumerId, cancellationToken);
        if (deployment.Messenger is { AuthenticatedOnly: true } && deployment.AuthenticationSettingsId is not null && consumer is not { IsAuthenticated: true })
        {
            // Logged-in visitors only: no anonymous session, new or resumed.
            throw new ParleyException(ErrorCodes.AuthenticationRequired,
                "This chat is for logged-in customers only: log in on the website, then start the chat.", StatusCodes.Status403Forbidden);
        }

        if (existing is not null)
        {
            var session = await consumerStore.GetConsumerSessionAsync(existing.SessionHash, cancellationToken);
            var list = await conversations.ListForConsumerAsync(existing, cancellationToken);
            return TypedResults.Ok(new SessionResponse(
                request.VisitorToken!, existing.ConsumerId, consumer!.IsAuthenticated, session!.ExpiresAt, list.Select(c => c.ToConsumerView()).ToList(),
                OpenOn(list, deployment.Id)));
        }

        var now = time.GetUtcNow();
        var visitor = Consumer.Anonymous(deployment.TenantId, now);
        await consumerStore.CreateConsumerAsync(visitor, cancellationToken);
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        var expires = now + options.Value.VisitorSessionLifetime;
        await consumerStore.CreateConsumerSessionAsync(new ConsumerSession(hash, visitor.Id, deployment.TenantId, deployment.Id, now, expires), cancellationToken);
        return TypedResults.Created("/api/v1/consumer/conversations", new SessionResponse(token, visitor.Id, false, expires, []));
    }

    /// <summary>The consumer's open conversation on the deployment (one conversation per page), if any.</summary>
    internal static Guid? OpenOn(IEnumerable<Conversations.Conversation> list, Guid deploymentId) =>
        list.FirstOrDefault(c => c.IsOpen && c.DeploymentId == deploymentId)?.Id;

    /// <summary>Logs this device out: its visitor token stops working and its sockets close; other devices keep their sessions.</summary>
    private static async Task<NoContent> LogoutAsync(HttpContext context, VisitorSignIn signIn, CancellationToken cancellationToken)
    {
        await signIn.SignOutAsync(context.Caller<ConsumerCaller>(), cancellationToken);
        return TypedResults.NoContent();
    }

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
