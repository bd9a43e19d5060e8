using Parley.Agents;

namespace Parley.Storage;

/// <summary>Agents, their routing (queues and capacity) and their signed-in sessions.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IAgentStore
{
    /// <summary>Stores a new agent. Emails are unique across Parley (case-insensitive).</summary>
    /// <exception cref="DuplicateKeyException">The email is taken.</exception>
    Task CreateAgentAsync(Agent agent, CancellationToken cancellationToken);

    /// <summary>An agent by id, or null.</summary>
    Task<Agent?> GetAgentAsync(Guid agentId, CancellationToken cancellationToken);

    /// <summary>An agent by email (case-insensitive), or null.</summary>
    Task<Agent?> FindAgentByEmailAsync(string email, CancellationToken cancellationToken);

    /// <summary>A tenant's agents, by display name.</summary>
    Task<IReadOnlyList<Agent>> ListAgentsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Sets the queues an agent serves (null: all) and their capacity. False when there is no such agent.</summary>
    Task<bool> SetAgentRoutingAsync(Guid agentId, IReadOnlyList<string>? queues, int capacity, CancellationToken cancellationToken);

    /// <summary>Stores a signed-in agent session.</summary>
    Task CreateAgentSessionAsync(AgentSession session, CancellationToken cancellationToken);

    /// <summary>The agent session with this token hash, or null.</summary>
    Task<AgentSession?> GetAgentSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Signs an agent session out. Returns false when there was no such session.</summary>
    Task<bool> DeleteAgentSessionAsync(string tokenHash, CancellationToken cancellationToken);
}
