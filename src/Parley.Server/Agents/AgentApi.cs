using Parley.Messaging;
using Parley.Routing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Security;
using Parley.Storage;

namespace Parley.Agents;

public sealed record LoginRequest(string Email, string Password);

/// <summary>An admin's new agent account: <c>Role</c> is <c>agent</c> (default) or <c>admin</c>; <c>Queues</c> null serves every queue.</summary>
public sealed record CreateAgentRequest(string? Email, string? DisplayName, string? Password, string? Role, int? Capacity, IReadOnlyList<string>? Queues);

public sealed record SessionView(AgentView? Agent);

/// <summary>
/// Filters for finding conversations (every one given must match). A POST body rather than a query
/// string: searches hold customers' names and emails, which URLs carry into proxies' access logs.
/// </summary>
public sealed record SearchRequest(
    string? Consumer = null, string? Text = null, string? Attribute = null, string? From = null, string? To = null,
    string? Status = null, string? Assigned = null, int? Limit = null);

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
        services.AddSingleton<AgentSignIn>();
        return services;
    }

    /// <summary>The agent REST API under <c>/api/v1/agent</c> (docs/api.md).</summary>
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/agent/login", LoginAsync).AllowAnonymous().RequireRateLimiting(AbuseLimits.SignInPolicy);
        app.MapGet("/api/v1/agent/session", SessionAsync).AllowAnonymous();

        var agent = app.MapGroup("/api/v1/agent").RequireAuthorization(CallerSchemes.Agent);
        agent.MapPost("/logout", LogoutAsync);
        agent.MapGet("/me", MeAsync);
        agent.MapGet("/conversations", ListAsync);
        agent.MapGet("/conversations/{conversationId:guid}", GetAsync);
        agent.MapGet("/conversations/{conversationId:guid}/messages", MessagesAsync);
        agent.MapGet("/conversations/{conversationId:guid}/receipts", ReceiptsAsync);
        agent.MapGet("/conversations/{conversationId:guid}/consumer", ConsumerPanelAsync);
        agent.MapGet("/conversations/{conversationId:guid}/history", ConsumerHistoryAsync);
        agent.MapPost("/conversations/search", SearchAsync);

        app.MapPost("/api/v1/admin/agents", CreateAgentAsync).RequireAuthorization(CallerSchemes.Admin);
        return app;
    }

    /// <summary>Signs an agent in: a bearer token for API clients and an HttpOnly cookie for the web app.</summary>
    private static async Task<Ok<LoginResponse>> LoginAsync(
        LoginRequest request, HttpContext context, AgentSignIn signIn, CancellationToken cancellationToken)
    {
        var signedIn = await signIn.SignInAsync(request.Email, request.Password, context.Connection.RemoteIpAddress?.ToString(), cancellationToken);
        context.Response.Cookies.Append(CallerSchemes.AgentCookie, signedIn.Token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = signedIn.ExpiresAt,
        });
        return TypedResults.Ok(new LoginResponse(signedIn.Token, signedIn.ExpiresAt, signedIn.Agent.ToView()));
    }

    /// <summary>
    /// Who is signed in on this browser, if anyone: <c>{"agent": …}</c> or <c>{"agent": null}</c>.
    /// The web app asks this when it opens, so a signed-out start is an answer, not an error.
    /// </summary>
    private static async Task<Ok<SessionView>> SessionAsync(HttpContext context, IAgentStore agentStore, CancellationToken cancellationToken)
    {
        context.Response.Headers.CacheControl = "no-store";
        var result = await context.AuthenticateAsync(CallerSchemes.Agent);
        return result.Succeeded && context.Items[typeof(Caller)] is AgentCaller caller && await agentStore.GetAgentAsync(caller.AgentId, cancellationToken) is { } agent
            ? TypedResults.Ok(new SessionView(agent.ToView()))
            : TypedResults.Ok(new SessionView(null));
    }

    private static async Task<NoContent> LogoutAsync(HttpContext context, SessionRevocation revocation, CancellationToken cancellationToken)
    {
        await revocation.EndAgentSessionAsync(context.Caller<AgentCaller>(), "signed out", cancellationToken);
        context.Response.Cookies.Delete(CallerSchemes.AgentCookie);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AgentView>, NotFound>> MeAsync(HttpContext context, IAgentStore agentStore, CancellationToken cancellationToken) =>
        await agentStore.GetAgentAsync(context.Caller<AgentCaller>().AgentId, cancellationToken) is { } agent
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
        Guid conversationId, HttpContext context, ConversationService conversations, IDeploymentStore deploymentStore, IConsumerStore consumerStore, IAuthenticationSettingsStore settingsStore, TimeProvider time, CancellationToken cancellationToken)
    {
        var conversation = await conversations.GetAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken);
        var identity = await consumerStore.GetVerifiedIdentityAsync(conversation.ConsumerId, cancellationToken);
        var unverified = new UnverifiedSection(conversation.Attributes);
        if (identity is null)
        {
            return TypedResults.Ok(new ConsumerPanelView(conversation.ConsumerId, "anonymous", null, null, null, unverified));
        }

        var current = identity.AuthenticatedUntil > time.GetUtcNow();
        var mapping = await deploymentStore.GetDeploymentAsync(conversation.DeploymentId, cancellationToken) is { AuthenticationSettingsId: { } settingsId }
            && await settingsStore.GetAuthenticationSettingsAsync(settingsId, cancellationToken) is { } settings
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

    public const int MinPasswordLength = 10;

    /// <summary>Creates an agent account in the admin's tenant (the email must be new across Parley: it is the login).</summary>
    private static async Task<Results<Created<AgentView>, ProblemHttpResult>> CreateAgentAsync(
        CreateAgentRequest request, HttpContext context, IAgentStore agentStore, IPasswordHasher<Agent> hasher, TimeProvider time,
        Routing.RoutingConfigurations configurations, Audit.AuditLog audit, CancellationToken cancellationToken)
    {
        var tenantId = context.Caller<AgentCaller>().TenantId;
        var email = request.Email?.Trim() ?? "";
        var name = request.DisplayName?.Trim() ?? "";
        if (email.Length is < 3 or > 254 || email.IndexOf('@') is <= 0 || email.EndsWith('@'))
        {
            throw ParleyException.Invalid("email is the agent's email address (it is their login).");
        }

        if (name.Length is 0 or > 80)
        {
            throw ParleyException.Invalid("displayName is required, at most 80 characters (customers may see it).");
        }

        if ((PlainText.Problem("email", email) ?? PlainText.Problem("displayName", name)) is { } control)
        {
            throw ParleyException.Invalid(control);
        }

        if (request.Password is not { Length: >= MinPasswordLength and <= 200 })
        {
            throw ParleyException.Invalid($"password is {MinPasswordLength} to 200 characters.");
        }

        var role = request.Role switch
        {
            null or "agent" => AgentRole.Agent,
            "admin" => AgentRole.Admin,
            _ => throw ParleyException.Invalid("role is agent or admin."),
        };
        var capacity = request.Capacity ?? 5;
        var queues = await Routing.RoutingApi.ValidAgentRoutingAsync(tenantId, capacity, request.Queues, configurations, cancellationToken);
        var agent = new Agent(Guid.NewGuid(), tenantId, email, name, "", role, capacity, time.GetUtcNow(), queues);
        agent = agent with { PasswordHash = hasher.HashPassword(agent, request.Password) };
        try
        {
            await agentStore.CreateAgentAsync(agent, cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            return TypedResults.Problem(
                detail: "An agent with this email exists already.", statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["code"] = "email_taken" });
        }

        await audit.ChangedAsync(context, Audit.AuditKinds.AgentCreated, detail: $"agent {agent.Id} ({agent.Role.ToString().ToLowerInvariant()})");
        return TypedResults.Created($"/api/v1/admin/agents/{agent.Id}", agent.ToView());
    }

    /// <summary>
    /// The consumer's other conversations, newest first — only for a logged-in consumer: an
    /// anonymous device's past is not proof that the same person is writing.
    /// </summary>
    private static async Task<Ok<IReadOnlyList<AgentConversationView>>> ConsumerHistoryAsync(
        Guid conversationId, HttpContext context, ConversationService conversations, IConsumerStore consumerStore, IConversationStore conversationStore, CancellationToken cancellationToken)
    {
        var conversation = await conversations.GetAsync(context.Caller<AgentCaller>(), conversationId, cancellationToken);
        if (await consumerStore.GetConsumerAsync(conversation.ConsumerId, cancellationToken) is not { IsAuthenticated: true })
        {
            return TypedResults.Ok<IReadOnlyList<AgentConversationView>>([]);
        }

        var history = await conversationStore.ListConversationsByConsumerAsync(conversation.ConsumerId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AgentConversationView>>(
            history.Where(c => c.Id != conversationId && c.TenantId == conversation.TenantId).Take(50).Select(c => c.ToAgentView()).ToList());
    }

    /// <summary>
    /// Finds the tenant's conversations: <c>consumer</c> (consumer id, verified subject, or part of a
    /// verified claim), <c>text</c> (part of a message), <c>attribute</c> (<c>name=value</c>),
    /// <c>from</c>/<c>to</c> (creation time; a date alone is the whole day), <c>status</c>, <c>assigned=me</c>.
    /// </summary>
    private static async Task<Ok<IReadOnlyList<AgentConversationView>>> SearchAsync(
        SearchRequest request, HttpContext context, IConversationStore conversationStore, IOptions<Storage.StorageOptions> storage, CancellationToken cancellationToken)
    {
        var (consumer, text, attribute, from, to, status, assigned, limit) = request;
        consumer = Trimmed(consumer, "consumer");
        text = Trimmed(text, "text");
        if (storage.Value.EncryptAtRest && (text is not null || (consumer is not null && !Guid.TryParse(consumer, out _))))
        {
            throw ParleyException.Invalid(
                "With Parley:Storage:EncryptAtRest on, message text and verified claims are encrypted and cannot be searched; search by consumer id, subject, attribute or date.");
        }

        string? attributeName = null, attributeValue = null;
        if (Trimmed(attribute, "attribute") is { } pair)
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0 || pair[..equals].IndexOfAny(['"', '\\']) >= 0)
            {
                throw ParleyException.Invalid("attribute is name=value (the name without quotes or backslashes), e.g. attribute=cart=149.00.");
            }

            (attributeName, attributeValue) = (pair[..equals].Trim(), pair[(equals + 1)..].Trim());
        }

        var search = new ConversationSearch(
            consumer, text, attributeName, attributeValue, Time(from, "from", endOfDay: false), Time(to, "to", endOfDay: true),
            status switch
            {
                null or "" or "all" => null,
                "open" => ConversationStatus.Open,
                "closed" => ConversationStatus.Closed,
                _ => throw ParleyException.Invalid("status is one of open, closed, all."),
            },
            Math.Clamp(limit ?? 50, 1, 200),
            assigned switch
            {
                null or "" => null,
                "me" => context.Caller<AgentCaller>().AgentId,
                _ => throw ParleyException.Invalid("assigned is me (the conversations the calling agent holds)."),
            });
        var found = await conversationStore.SearchConversationsAsync(context.Caller<AgentCaller>().TenantId, search, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AgentConversationView>>(found.Select(c => c.ToAgentView()).ToList());
    }

    private static string? Trimmed(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? null
        : PlainText.Problem(name, value) is { } control ? throw ParleyException.Invalid(control)
        : value.Trim() is { Length: <= 200 } trimmed ? trimmed
        : throw ParleyException.Invalid($"{name} is at most 200 characters.");

    /// <summary>An ISO 8601 time, or a date: from its start (<paramref name="endOfDay"/> false) or to its end.</summary>
    private static DateTimeOffset? Time(string? value, string name, bool endOfDay)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date))
        {
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1) : start;
        }

        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw ParleyException.Invalid($"{name} is a date (2026-11-21) or an ISO 8601 time.");
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
}
