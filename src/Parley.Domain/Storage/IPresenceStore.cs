namespace Parley.Storage;

/// <summary>Which agents have a console open on which node, for routing across nodes.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IPresenceStore
{
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
}
