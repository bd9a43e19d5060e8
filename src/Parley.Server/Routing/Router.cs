using Parley.Conversations;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Puts conversations in queues by the tenant's rules, from what is known about them now: the
/// consumer's current login (verified claims and context variables), the page's engagement
/// attributes (unverified), the bot case and the deployment. Routes again when those change
/// (a mid-chat login, a login that expires, a bot hand-over) while no agent has the conversation.
/// </summary>
public sealed partial class Router(
    IConsumerStore consumerStore, IConversationStore conversationStore, IRoutingStore routingStore,
    RoutingConfigurations configurations,
    AutoAssigner assigner,
    Messaging.ConversationLifecycle lifecycle,
    TimeProvider time,
    ILogger<Router> logger)
{
    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    /// <summary>What the rules see of a conversation, and until when (the login's end) that stays true.</summary>
    public async Task<(RoutingFacts Facts, DateTimeOffset? Until)> FactsAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        var identity = conversation.Authenticated ? await consumerStore.GetVerifiedIdentityAsync(conversation.ConsumerId, cancellationToken) : null;
        var current = identity is not null && identity.AuthenticatedUntil > time.GetUtcNow() ? identity : null;
        var facts = new RoutingFacts(
            current is not null,
            current?.VerifiedClaims ?? None,
            current?.ContextVariables ?? None,
            conversation.Attributes,
            conversation.BotCase,
            conversation.DeploymentId);
        return (facts, current?.AuthenticatedUntil);
    }

    /// <summary>A conversation about to be stored, with the queue, priority and rule the tenant's rules give it.</summary>
    public async Task<Conversation> PlaceAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        var routing = await configurations.GetAsync(conversation.TenantId, cancellationToken);
        var (facts, until) = await FactsAsync(conversation, cancellationToken);
        var decision = routing.Rules.Route(facts);
        return conversation with { Queue = decision.Queue, Priority = decision.Priority, RoutingRule = decision.Rule, RoutedUntil = until };
    }

    /// <summary>
    /// Routes an open, unassigned conversation again. One that is not in a queue yet (the bot has
    /// it) enters one only when <paramref name="enqueue"/> is set (a hand-over); <paramref name="preferredQueue"/>
    /// (a bot case's queue) wins over the rules when the tenant has that queue. Assigns it when the
    /// tenant assigns automatically. Returns the conversation as stored afterwards (null: unknown).
    /// </summary>
    public async Task<Conversation?> RerouteAsync(
        Guid conversationId, bool enqueue, string? preferredQueue, CancellationToken cancellationToken)
    {
        var conversation = await conversationStore.GetConversationAsync(conversationId, cancellationToken);
        if (conversation is not { IsOpen: true, AssignedAgentId: null } || (conversation.Queue is null && !enqueue))
        {
            return conversation;
        }

        var routing = await configurations.GetAsync(conversation.TenantId, cancellationToken);
        var (facts, until) = await FactsAsync(conversation, cancellationToken);
        var decision = routing.Rules.Route(facts);
        if (preferredQueue is not null && routing.Configuration.HasQueue(preferredQueue))
        {
            decision = decision with { Queue = preferredQueue };
        }

        if (conversation.Queue == decision.Queue && conversation.Priority == decision.Priority
            && conversation.RoutingRule == decision.Rule && conversation.RoutedUntil == until)
        {
            return conversation;
        }

        if (!await routingStore.RouteConversationAsync(conversationId, decision.Queue, decision.Priority, decision.Rule, until, time.GetUtcNow(), cancellationToken))
        {
            // An agent took it meanwhile: it stays with them.
            return await conversationStore.GetConversationAsync(conversationId, cancellationToken);
        }

        LogRouted(logger, conversationId, conversation.Queue, decision.Queue, decision.Priority);
        var routed = await lifecycle.ChangedAsync(conversationId, null, cancellationToken);
        if (routed is not null)
        {
            await assigner.AssignWaitingAsync(routed.TenantId, cancellationToken);
        }

        return routed;
    }

    /// <summary>
    /// <see cref="RerouteAsync"/> for callers whose own work is done and must not fail because of
    /// routing (a login, a bot answer): a failure is logged, and the routing sweep retries what it can.
    /// </summary>
    public async Task TryRerouteAsync(Guid conversationId, bool enqueue = false, string? preferredQueue = null)
    {
        try
        {
            await RerouteAsync(conversationId, enqueue, preferredQueue, CancellationToken.None);
        }
        catch (Exception exception) when (exception is StorageUnavailableException or RoutingRulesException)
        {
            LogRerouteFailed(logger, conversationId, exception);
        }
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Conversation {ConversationId} routed from {From} to {Queue} (priority {Priority})")]
    private static partial void LogRouted(ILogger logger, Guid conversationId, string? from, string queue, int priority);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Routing conversation {ConversationId} again failed")]
    private static partial void LogRerouteFailed(ILogger logger, Guid conversationId, Exception exception);
}
