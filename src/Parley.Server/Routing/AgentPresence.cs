using System.Collections.Concurrent;

namespace Parley.Routing;

/// <summary>
/// Which agents have the agent console open on this node (at least one live agent WebSocket).
/// Only connected agents get conversations assigned automatically.
/// </summary>
public sealed class AgentPresence
{
    private readonly ConcurrentDictionary<Guid, (Guid TenantId, int Connections)> _agents = new();

    /// <summary>Counts a new connection; true when it is the agent's first.</summary>
    public bool Connected(Guid tenantId, Guid agentId) =>
        _agents.AddOrUpdate(agentId, (tenantId, 1), (_, current) => (tenantId, current.Connections + 1)).Connections == 1;

    /// <summary>Counts a closed connection; true when it was the agent's last.</summary>
    public bool Disconnected(Guid agentId)
    {
        while (_agents.TryGetValue(agentId, out var current))
        {
            if (current.Connections <= 1)
            {
                if (_agents.TryRemove(new KeyValuePair<Guid, (Guid, int)>(agentId, current)))
                {
                    return true;
                }
            }
            else if (_agents.TryUpdate(agentId, (current.TenantId, current.Connections - 1), current))
            {
                return false;
            }
        }

        return false;
    }

    public bool IsConnected(Guid agentId) => _agents.ContainsKey(agentId);

    /// <summary>The connected agents of a tenant.</summary>
    public IReadOnlyList<Guid> ConnectedAgents(Guid tenantId) =>
        _agents.Where(a => a.Value.TenantId == tenantId).Select(a => a.Key).ToList();

    /// <summary>Tenants with at least one connected agent.</summary>
    public IReadOnlyList<Guid> Tenants() => _agents.Values.Select(a => a.TenantId).Distinct().ToList();
}
