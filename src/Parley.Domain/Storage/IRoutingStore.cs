using Parley.Conversations;
using Parley.Routing;

namespace Parley.Storage;

/// <summary>Queues and assignment: routing conversations, agents taking them, the figures, and the tenant's routing configuration.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IRoutingStore
{
    /// <summary>
    /// Puts an open, unassigned conversation in a queue with a priority; one that was in no queue
    /// starts waiting now, one that was keeps its place in time. False, changing nothing, when it
    /// is closed or assigned.
    /// </summary>
    Task<bool> RouteConversationAsync(
        Guid conversationId, string queue, int priority, string? rule, DateTimeOffset? routedUntil, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Assigns an open, unassigned conversation to an agent who has room for it (fewer open
    /// conversations than their capacity). Atomic: of concurrent callers for one conversation
    /// exactly one succeeds, and concurrent assignments never take an agent over capacity.
    /// </summary>
    Task<AssignOutcome> TryAssignConversationAsync(
        Guid conversationId, Guid agentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Assigns the agent the waiting conversation of their tenant and queues with the highest
    /// priority, then the longest wait; atomic like <see cref="TryAssignConversationAsync"/>.
    /// </summary>
    Task<TakeResult> TakeNextConversationAsync(Guid agentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A tenant's waiting conversations (open, unassigned), highest priority then longest wait first; <paramref name="queues"/> null means all.</summary>
    Task<IReadOnlyList<Conversation>> ListWaitingConversationsAsync(
        Guid tenantId, IReadOnlyList<string>? queues, int limit, CancellationToken cancellationToken);

    /// <summary>Unassigns an agent's open conversations (back to their queues, keeping their place); returns their ids.</summary>
    Task<IReadOnlyList<Guid>> ReturnAgentConversationsAsync(Guid agentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Waiting conversations whose routing relied on a login that has expired by <paramref name="now"/>.</summary>
    Task<IReadOnlyList<Conversation>> ListConversationsToRerouteAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>How many open conversations each agent of a tenant holds (agents with none are left out).</summary>
    Task<IReadOnlyDictionary<Guid, int>> CountAssignedConversationsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>
    /// Per tenant and queue: the waiting conversations and the oldest wait, and the average time to
    /// first response of conversations first answered since <paramref name="respondedSince"/>.
    /// <paramref name="tenantId"/> null means every tenant.
    /// </summary>
    Task<IReadOnlyList<QueueStatistics>> GetQueueStatisticsAsync(
        Guid? tenantId, DateTimeOffset respondedSince, CancellationToken cancellationToken);

    /// <summary>A tenant's routing configuration, or null when it never saved one.</summary>
    Task<RoutingConfiguration?> GetRoutingConfigurationAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Stores or replaces a tenant's routing configuration.</summary>
    Task SaveRoutingConfigurationAsync(Guid tenantId, RoutingConfiguration configuration, DateTimeOffset now, CancellationToken cancellationToken);
}
