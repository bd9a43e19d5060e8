using Parley.Agents;
using Parley.Audit;
using Parley.Authentication;
using Parley.Bots;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Routing;
using Parley.Tenants;

namespace Parley.Storage;

/// <summary>
/// Parley's durable state. One implementation per database provider (SQLite, PostgreSQL), each
/// with its own schema migrations; all implementations pass the same test suite.
/// </summary>
/// <remarks>
/// Methods throw <see cref="StorageUnavailableException"/> when the database cannot be reached or
/// refuses writes; callers treat that as retryable. A completed write is durable.
/// </remarks>
public interface IParleyStore
{
    /// <summary>Creates or upgrades the schema to the newest version. Safe to call on every start.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>The schema version currently applied.</summary>
    Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>True when the database answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new tenant.</summary>
    Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken);

    /// <summary>A tenant by id, or null.</summary>
    Task<Tenant?> GetTenantAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Stores a new deployment of an existing tenant.</summary>
    Task CreateDeploymentAsync(Deployment deployment, CancellationToken cancellationToken);

    /// <summary>A deployment by id, or null.</summary>
    Task<Deployment?> GetDeploymentAsync(Guid deploymentId, CancellationToken cancellationToken);

    /// <summary>A tenant's deployments, by name.</summary>
    Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Replaces the origins a deployment accepts browsers from.</summary>
    Task SetDeploymentOriginsAsync(Guid deploymentId, IReadOnlyList<string> origins, CancellationToken cancellationToken);

    /// <summary>Attaches authentication settings to a deployment (null detaches them).</summary>
    Task SetDeploymentAuthenticationSettingsAsync(Guid deploymentId, Guid? settingsId, CancellationToken cancellationToken);

    /// <summary>Replaces a deployment's bot (null removes it).</summary>
    /// <summary>
    /// Retention: deletes up to <paramref name="limit"/> conversations closed before
    /// <paramref name="closedBefore"/>, with their messages, receipts and login states. Returns how many.
    /// </summary>
    Task<int> DeleteClosedConversationsAsync(DateTimeOffset closedBefore, int limit, CancellationToken cancellationToken);

    /// <summary>Appends these events in one transaction: all are stored or none.</summary>
    Task AppendAuditEventsAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken);

    /// <summary>A tenant's audit events, newest first, before a time, optionally of one kind.</summary>
    Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(Guid tenantId, string? kind, DateTimeOffset? before, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces a deployment's messenger settings (null: the defaults).</summary>
    Task SetDeploymentMessengerAsync(Guid deploymentId, MessengerSettings? messenger, CancellationToken cancellationToken);

    Task SetDeploymentBotAsync(Guid deploymentId, BotSettings? bot, CancellationToken cancellationToken);

    /// <summary>Stores a new consumer.</summary>
    Task CreateConsumerAsync(Consumer consumer, CancellationToken cancellationToken);

    /// <summary>A consumer by id, or null.</summary>
    Task<Consumer?> GetConsumerAsync(Guid consumerId, CancellationToken cancellationToken);

    /// <summary>
    /// The authenticated consumer for tenant + issuer + subject, created on first use. Concurrent
    /// callers get the same consumer.
    /// </summary>
    Task<Consumer> GetOrCreateAuthenticatedConsumerAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Signs a logged-in visitor in, in one transaction: the consumer for tenant + issuer + subject
    /// (created on first login), then what <paramref name="proved"/> builds for it — the verified
    /// identity and the device session. Nothing is stored unless all of it is.
    /// </summary>
    Task<Consumer> SignInAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, Func<Consumer, (VerifiedIdentity Identity, ConsumerSession Session)> proved,
        CancellationToken cancellationToken);

    /// <summary>Links a device to a consumer.</summary>
    Task CreateConsumerSessionAsync(ConsumerSession session, CancellationToken cancellationToken);

    /// <summary>The device session with this token hash, or null (expired ones included; callers check).</summary>
    Task<ConsumerSession?> GetConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Unlinks a device. Returns false when there was no such session.</summary>
    Task<bool> DeleteConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Stores a new agent. Emails are unique across Parley (case-insensitive).</summary>
    /// <exception cref="DuplicateKeyException">The email is taken.</exception>
    Task CreateAgentAsync(Agent agent, CancellationToken cancellationToken);

    /// <summary>An agent by id, or null.</summary>
    Task<Agent?> GetAgentAsync(Guid agentId, CancellationToken cancellationToken);

    /// <summary>An agent by email (case-insensitive), or null.</summary>
    Task<Agent?> FindAgentByEmailAsync(string email, CancellationToken cancellationToken);

    /// <summary>Stores a signed-in agent session.</summary>
    Task CreateAgentSessionAsync(AgentSession session, CancellationToken cancellationToken);

    /// <summary>The agent session with this token hash, or null.</summary>
    Task<AgentSession?> GetAgentSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Signs an agent session out. Returns false when there was no such session.</summary>
    Task<bool> DeleteAgentSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Stores a new conversation (its <see cref="Conversation.LastSeq"/> must be 0).</summary>
    Task CreateConversationAsync(Conversation conversation, CancellationToken cancellationToken);

    /// <summary>A conversation by id, or null.</summary>
    Task<Conversation?> GetConversationAsync(Guid conversationId, CancellationToken cancellationToken);

    /// <summary>A consumer's conversations, newest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversationsByConsumerAsync(
        Guid consumerId, CancellationToken cancellationToken);

    /// <summary>A tenant's conversations, optionally only those with <paramref name="status"/>, oldest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversationsByTenantAsync(
        Guid tenantId, ConversationStatus? status, int limit, CancellationToken cancellationToken);

    /// <summary>A tenant's conversations that match every filter of <paramref name="search"/>, newest first.</summary>
    Task<IReadOnlyList<Conversation>> SearchConversationsAsync(
        Guid tenantId, ConversationSearch search, CancellationToken cancellationToken);

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

    /// <summary>
    /// Puts an open, unassigned conversation in a queue with a priority; one that was in no queue
    /// starts waiting now, one that was keeps its place in time. False, changing nothing, when it
    /// is closed or assigned.
    /// </summary>
    Task<bool> RouteConversationAsync(
        Guid conversationId, string queue, int priority, string? rule, DateTimeOffset? routedUntil, DateTimeOffset now, CancellationToken cancellationToken);

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

    /// <summary>
    /// Records how many agent-console connections an agent has on a node (0: none, since
    /// <paramref name="now"/>) and that the node is alive.
    /// </summary>
    Task SetAgentConnectionsAsync(Guid nodeId, Guid agentId, Guid tenantId, int connections, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Marks a node alive at <paramref name="now"/>.</summary>
    Task RecordNodeHeartbeatAsync(Guid nodeId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Forgets nodes (and their presence rows) not seen since <paramref name="before"/>; returns how many nodes.</summary>
    Task<int> PurgeNodesAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>Agents of a tenant with a console connection on a node seen since <paramref name="aliveSince"/>.</summary>
    Task<IReadOnlyList<Guid>> ListConnectedAgentsAsync(Guid tenantId, DateTimeOffset aliveSince, CancellationToken cancellationToken);

    /// <summary>
    /// Agents who hold open conversations and once had a console connection but have none on a node
    /// seen since <paramref name="aliveSince"/>, with when they were last seen connected.
    /// </summary>
    Task<IReadOnlyList<AgentAway>> ListAwayAgentsAsync(DateTimeOffset aliveSince, CancellationToken cancellationToken);

    /// <summary>A tenant's routing configuration, or null when it never saved one.</summary>
    Task<RoutingConfiguration?> GetRoutingConfigurationAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Stores or replaces a tenant's routing configuration.</summary>
    Task SaveRoutingConfigurationAsync(Guid tenantId, RoutingConfiguration configuration, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A tenant's agents, by display name.</summary>
    Task<IReadOnlyList<Agent>> ListAgentsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Sets the queues an agent serves (null: all) and their capacity. False when there is no such agent.</summary>
    Task<bool> SetAgentRoutingAsync(Guid agentId, IReadOnlyList<string>? queues, int capacity, CancellationToken cancellationToken);

    /// <summary>
    /// Opens or closes a conversation. Returns false, changing nothing, when it already had that status.
    /// Closing unassigns it.
    /// </summary>
    Task<bool> SetConversationStatusAsync(
        Guid conversationId, ConversationStatus status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a conversation, with its history, from one consumer to another (a mid-chat login).
    /// Returns false, changing nothing, when it does not belong to <paramref name="fromConsumerId"/>.
    /// </summary>
    Task<bool> TransferConversationAsync(
        Guid conversationId, Guid fromConsumerId, Guid toConsumerId, bool authenticated, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the bot case a conversation is about.</summary>
    Task SetConversationBotCaseAsync(Guid conversationId, string? botCase, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces a conversation's engagement attributes.</summary>
    Task SetEngagementAttributesAsync(
        Guid conversationId, EngagementAttributes attributes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Appends messages in one transaction and returns one result per input, in order. A message
    /// whose (conversation, sender, client message id) was stored before is not stored again; its
    /// result carries the original. Sequence numbers are assigned per conversation with no gaps.
    /// When this method returns, every message in the batch is durable.
    /// </summary>
    Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(
        IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken);

    /// <summary>Messages with seq greater than <paramref name="afterSeq"/>, in seq order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Message>> GetMessagesAsync(
        Guid conversationId, long afterSeq, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Raises a participant's delivered/read marks (never lowers them) and returns the stored receipt.
    /// </summary>
    Task<Receipt> UpsertReceiptAsync(Receipt receipt, CancellationToken cancellationToken);

    /// <summary>Every participant's receipt for a conversation.</summary>
    Task<IReadOnlyList<Receipt>> GetReceiptsAsync(Guid conversationId, CancellationToken cancellationToken);

    /// <summary>Stores a login in progress.</summary>
    Task CreateLoginStateAsync(LoginState state, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a login state out of storage, atomically: of concurrent callers only one gets it, and
    /// it is never returned again. Null when unknown, already used, or expired at <paramref name="now"/>.
    /// </summary>
    Task<LoginState?> ConsumeLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes login states that expired before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeExpiredLoginStatesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A login state without taking it (null when unknown or expired); for showing where it returns to.</summary>
    Task<LoginState?> FindLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records what a consumer's latest login proved (replacing the previous one).</summary>
    Task SaveVerifiedIdentityAsync(VerifiedIdentity identity, CancellationToken cancellationToken);

    /// <summary>What a consumer's latest login proved, or null for a consumer who never logged in.</summary>
    Task<VerifiedIdentity?> GetVerifiedIdentityAsync(Guid consumerId, CancellationToken cancellationToken);

    /// <summary>Stores or replaces an authentication settings record (keyed by its id).</summary>
    Task SaveAuthenticationSettingsAsync(AuthenticationSettings settings, CancellationToken cancellationToken);

    /// <summary>An authentication settings record by id, or null.</summary>
    Task<AuthenticationSettings?> GetAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken);

    /// <summary>A tenant's authentication settings records, by name.</summary>
    Task<IReadOnlyList<AuthenticationSettings>> ListAuthenticationSettingsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Deletes a record. Returns false when there was none, or when a deployment still uses it.</summary>
    Task<bool> DeleteAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken);
}

/// <summary>An agent with open conversations and no live console connection, since <see cref="Since"/>.</summary>
public sealed record AgentAway(Guid AgentId, Guid TenantId, DateTimeOffset Since);

/// <summary>What became of an assignment.</summary>
public enum AssignOutcome
{
    Assigned,

    /// <summary>The conversation is closed, missing, or another agent has it.</summary>
    Taken,

    /// <summary>The agent already holds as many open conversations as their capacity (or is unknown).</summary>
    AtCapacity,

    /// <summary>No conversation is waiting in the agent's queues.</summary>
    NoneWaiting,
}

/// <summary>The outcome of taking the next conversation, and which one it was when assigned.</summary>
public sealed record TakeResult(AssignOutcome Outcome, Guid? ConversationId);

/// <summary>One queue's figures. Waits are measured from <see cref="Conversation.QueuedAt"/>.</summary>
public sealed record QueueStatistics(
    Guid TenantId,
    string Queue,
    int Waiting,
    DateTimeOffset? OldestQueuedAt,
    int Responded,
    double? AverageFirstResponseMilliseconds);

/// <summary>The database cannot be reached or refuses writes. Retryable.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null)
    : Exception(message, inner);

/// <summary>A unique key is already taken.</summary>
public sealed class DuplicateKeyException(string message, Exception? inner = null)
    : Exception(message, inner);
