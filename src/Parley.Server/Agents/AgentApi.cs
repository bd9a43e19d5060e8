using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Security;
using Parley.Storage;

namespace Parley.Agents;

public sealed record LoginRequest(string Email, string Password);

/// <summary>An agent: <c>Queues</c> are the queues they serve (null: every queue), <c>Capacity</c> the most open conversations they hold.</summary>
public sealed record AgentView(Guid Id, Guid TenantId, string Email, string DisplayName, string Role, int Capacity, IReadOnlyList<string>? Queues);

public sealed record LoginResponse(string Token, DateTimeOffset ExpiresAt, AgentView Agent);

/// <summary>
/// Data the brand's identity provider signed: shown as verified, with the authenticated mark.
/// <c>Labels</c> names each claim for agents (the settings' claim mapping, else a default for
/// the standard claims, else the claim's own name).
/// </summary>
public sealed record VerifiedSection(
    string Issuer,
    string Subject,
    IReadOnlyDictionary<string, string> Claims,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> ContextVariables,
    string? Acr);

/// <summary>Data the page passed: shown as unverified, never as proof of identity.</summary>
public sealed record UnverifiedSection(IReadOnlyDictionary<string, string> EngagementAttributes);

/// <summary>
/// The consumer panel. <c>Authentication</c> is <c>authenticated</c> (current), <c>expired</c>
/// (was authenticated; the identity is no longer current) or <c>anonymous</c>.
/// </summary>
public sealed record ConsumerPanelView(
    Guid ConsumerId,
    string Authentication,
    DateTimeOffset? AuthenticatedSince,
    DateTimeOffset? AuthenticatedUntil,
    VerifiedSection? Verified,
    UnverifiedSection Unverified);

public static partial class AgentApi
{
    public static IServiceCollection AddAgents(this IServiceCollection services)
    {
        services.AddSingleton<IPasswordHasher<Agent>, PasswordHasher<Agent>>();
        return services;
    }

    /// <summary>The agent REST API under <c>/api/v1/agent</c> (docs/api.md).</summary>
    public static WebApplication MapAgentApi(this WebApplication app)
    {
        app.MapPost("/api/v1/agent/login", LoginAsync).AllowAnonymous();

        var agent = app.MapGroup("/api/v1/agent").RequireAuthorization(CallerSchemes.Agent);
        agent.MapPost("/logout", LogoutAsync);
        agent.MapGet("/me", MeAsync);
        agent.MapGet("/conversations", ListAsync);
        agent.MapGet("/conversations/{conversationId:guid}", GetAsync);
        agent.MapGet("/conversations/{conversationId:guid}/messages", MessagesAsync);
        agent.MapGet("/conversations/{conversationId:guid}/receipts", ReceiptsAsync);
        agent.MapGet("/conversations/{conversationId:guid}/consumer", ConsumerPanelAsync);
        return app;
    }

    public static AgentView ToView(this Agent a) =>
        new(a.Id, a.TenantId, a.Email, a.DisplayName, a.Role.ToString().ToLowerInvariant(), a.Capacity, a.Queues);

    /// <summary>Signs an agent in: a bearer token for API clients and an HttpOnly cookie for the web app.</summary>
    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request,
        HttpContext context,
        IParleyStore store,
        IPasswordHasher<Agent> hasher,
        TimeProvider time,
        IOptions<ParleyOptions> options,
        ILogger<LoginRequest> logger,
        CancellationToken cancellationToken)
    {
        var agent = string.IsNullOrWhiteSpace(request.Email) ? null : await store.FindAgentByEmailAsync(request.Email.Trim(), cancellationToken);
        var verdict = agent is null || string.IsNullOrEmpty(request.Password)
            ? PasswordVerificationResult.Failed
            : hasher.VerifyHashedPassword(agent, agent.PasswordHash, request.Password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            LogLoginFailed(logger);
            return TypedResults.Problem(
                detail: "The email or password is wrong.", statusCode: StatusCodes.Status401Unauthorized,
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.Unauthorized });
        }

        var now = time.GetUtcNow();
        var (token, hash) = OpaqueToken.Create(OpaqueToken.AgentPrefix);
        var expires = now + options.Value.AgentSessionLifetime;
        await store.CreateAgentSessionAsync(new AgentSession(hash, agent!.Id, agent.TenantId, now, expires), cancellationToken);
        context.Response.Cookies.Append(CallerSchemes.AgentCookie, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = expires,
        });
        LogLoggedIn(logger, agent.Id);
        return TypedResults.Ok(new LoginResponse(token, expires, agent.ToView()));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext context, IParleyStore store, CancellationToken cancellationToken)
    {
        await store.DeleteAgentSessionAsync(context.Caller<AgentCaller>().SessionHash, cancellationToken);
        context.Response.Cookies.Delete(CallerSchemes.AgentCookie);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AgentView>, NotFound>> MeAsync(HttpContext context, IParleyStore store, CancellationToken cancellationToken) =>
        await store.GetAgentAsync(context.Caller<AgentCaller>().AgentId, cancellationToken) is { } agent
            ? TypedResults.Ok(agent.ToView())
            : TypedResults.NotFound();

    private static async Task<Ok<IReadOnlyList<AgentConversationView>>> ListAsync(
        string? status, int? limit, HttpContext context, ConversationService conversations, CancellationToken cancellationToken)
    {
        var filter = status switch
        {
            null or "open" => (ConversationStatus?)ConversationStatus.Open,
            "closed" => ConversationStatus.Closed,
            "all" => null,
            _ => throw ParleyException.Invalid("status is one of open, closed, all."),
        };
        var items = await conversations.ListForAgentAsync(context.Caller<AgentCaller>(), filter, Math.Clamp(limit ?? 100, 1, 500), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AgentConversationView>>(items.Select(c => c.ToAgentView()).ToList());
    }

    private static async Task<Ok<AgentConversationView>> GetAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok((await conversations.GetAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken)).ToAgentView());

    private static Task<Ok<MessagePage>> MessagesAsync(
        Guid conversationId, long? after, int? limit, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        ConsumerApi.Page(context.Caller<AgentCaller>(), conversationId, after, limit, conversations, cancellationToken);

    private static async Task<Ok<IReadOnlyList<ReceiptView>>> ReceiptsAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<ReceiptView>>(
            (await conversations.ReceiptsAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken)).Select(r => r.ToView()).ToList());

    /// <summary>Who the agent is talking to: verified identity (if any, and whether still current) apart from the page's unverified data.</summary>
    private static async Task<Ok<ConsumerPanelView>> ConsumerPanelAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, IParleyStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var conversation = await conversations.GetAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken);
        var identity = await store.GetVerifiedIdentityAsync(conversation.ConsumerId, cancellationToken);
        var unverified = new UnverifiedSection(conversation.Attributes);
        if (identity is null)
        {
            return TypedResults.Ok(new ConsumerPanelView(conversation.ConsumerId, "anonymous", null, null, null, unverified));
        }

        var current = identity.AuthenticatedUntil > time.GetUtcNow();
        var mapping = await store.GetDeploymentAsync(conversation.DeploymentId, cancellationToken) is { AuthenticationSettingsId: { } settingsId }
            && await store.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is { } settings
                ? settings.ClaimMapping
                : new Dictionary<string, string>();
        var labels = identity.VerifiedClaims.Keys.ToDictionary(
            claim => claim,
            claim => mapping.TryGetValue(claim, out var label) ? label : StandardLabels.GetValueOrDefault(claim, claim));
        return TypedResults.Ok(new ConsumerPanelView(
            conversation.ConsumerId,
            current ? "authenticated" : "expired",
            identity.AuthenticatedAt,
            identity.AuthenticatedUntil,
            new VerifiedSection(identity.Issuer, identity.Subject, identity.VerifiedClaims, labels, identity.ContextVariables, identity.Acr),
            unverified));
    }

    private static readonly Dictionary<string, string> StandardLabels = new(StringComparer.Ordinal)
    {
        ["given_name"] = "First name",
        ["family_name"] = "Last name",
        ["name"] = "Name",
        ["email"] = "Email",
        ["email_verified"] = "Email verified",
        ["phone_number"] = "Phone",
        ["preferred_username"] = "Username",
        ["birthdate"] = "Date of birth",
    };

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Agent login refused")]
    private static partial void LogLoginFailed(ILogger logger);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Agent {AgentId} signed in")]
    private static partial void LogLoggedIn(ILogger logger, Guid agentId);
}
