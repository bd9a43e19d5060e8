using Microsoft.Extensions.Options;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Which agents have the agent console open (at least one live <c>/ws/agent</c> connection), on
/// any node. Each node counts its own connections and writes the counts to the database, with a
/// heartbeat: a node that stops (even by SIGKILL) stops counting once its heartbeat is older than
/// <see cref="NodeTimeout"/>. Only connected agents get conversations automatically; agents away
/// longer than the grace period lose theirs.
/// </summary>
public sealed partial class AgentPresence(IPresenceStore presenceStore, TimeProvider time, IOptions<RoutingOptions> options, ILogger<AgentPresence> logger)
    : IDisposable
{
    private readonly Dictionary<Guid, (Guid TenantId, int Connections)> _local = [];
    private readonly SemaphoreSlim _writes = new(1, 1);
    private bool _unsaved;

    /// <summary>This node's identity in the presence table (new at every start).</summary>
    public Guid NodeId { get; } = Guid.NewGuid();

    /// <summary>A node whose heartbeat is older than this is taken for dead: three sweeps, at least 30 seconds.</summary>
    public TimeSpan NodeTimeout => TimeSpan.FromTicks(Math.Max(options.Value.SweepInterval.Ticks * 3, TimeSpan.FromSeconds(30).Ticks));

    public DateTimeOffset AliveSince => time.GetUtcNow() - NodeTimeout;

    /// <summary>Counts a new connection; true when it is the agent's first on this node.</summary>
    public Task<bool> ConnectedAsync(Guid tenantId, Guid agentId) => ChangeAsync(tenantId, agentId, +1);

    /// <summary>Counts a closed connection; true when it was the agent's last on this node.</summary>
    public Task<bool> DisconnectedAsync(Guid tenantId, Guid agentId) => ChangeAsync(tenantId, agentId, -1);

    private async Task<bool> ChangeAsync(Guid tenantId, Guid agentId, int by)
    {
        await _writes.WaitAsync();
        try
        {
            var connections = Math.Max(0, (_local.TryGetValue(agentId, out var current) ? current.Connections : 0) + by);
            _local[agentId] = (tenantId, connections);
            try
            {
                await presenceStore.SetAgentConnectionsAsync(NodeId, agentId, tenantId, connections, time.GetUtcNow(), CancellationToken.None);
            }
            catch (StorageUnavailableException exception)
            {
                // The heartbeat writes every count again once the database is back.
                _unsaved = true;
                LogWriteFailed(logger, exception);
            }

            if (connections == 0)
            {
                _local.Remove(agentId);
            }

            return by > 0 ? connections == 1 : connections == 0;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>
    /// The heartbeat: this node is alive (one small write), and, after a write that failed, its
    /// counts are written again. Every write competes for SQLite's single write lock with the
    /// message writer, so the heartbeat writes no more than it must.
    /// </summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            await presenceStore.RecordNodeHeartbeatAsync(NodeId, now, cancellationToken);
            if (_unsaved)
            {
                foreach (var (agentId, (tenantId, connections)) in _local)
                {
                    await presenceStore.SetAgentConnectionsAsync(NodeId, agentId, tenantId, connections, now, cancellationToken);
                }

                _unsaved = false;
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The connected agents of a tenant, on any node.</summary>
    public Task<IReadOnlyList<Guid>> ConnectedAgentsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        presenceStore.ListConnectedAgentsAsync(tenantId, AliveSince, cancellationToken);

    /// <summary>Tenants with an agent connected to this node.</summary>
    public async Task<IReadOnlyList<Guid>> LocalTenantsAsync(CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            return _local.Values.Select(a => a.TenantId).Distinct().ToList();
        }
        finally
        {
            _writes.Release();
        }
    }

    public void Dispose() => _writes.Dispose();

    [LoggerMessage(EventId = 8007, Level = LogLevel.Warning, Message = "Recording agent presence failed; the next heartbeat writes it again")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);
}
