namespace Parley.Storage;

public abstract partial class SqlParleyStore : IPresenceStore
{
    public Task SetAgentConnectionsAsync(
        Guid nodeId, Guid agentId, Guid tenantId, int connections, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            await using (var node = Command(connection, transaction, UpsertNodeSql, ("node", ToDb(nodeId)), ("at", ToDb(now))))
            {
                await node.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var presence = Command(connection, transaction,
                "INSERT INTO agent_presence (agent_id, node_id, tenant_id, connections, changed_at) VALUES (@agent, @node, @tenant, @connections, @at) " +
                "ON CONFLICT (agent_id, node_id) DO UPDATE SET connections = excluded.connections, changed_at = excluded.changed_at",
                ("agent", ToDb(agentId)), ("node", ToDb(nodeId)), ("tenant", ToDb(tenantId)), ("connections", connections), ("at", ToDb(now))))
            {
                await presence.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);

    private const string UpsertNodeSql =
        "INSERT INTO parley_nodes (node_id, seen_at) VALUES (@node, @at) ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at";

    public Task RecordNodeHeartbeatAsync(Guid nodeId, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(UpsertNodeSql, cancellationToken, ("node", ToDb(nodeId)), ("at", ToDb(now)));

    public Task<int> PurgeNodesAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            await using (var presence = Command(connection, transaction,
                "DELETE FROM agent_presence WHERE node_id IN (SELECT node_id FROM parley_nodes WHERE seen_at < @before)", ("before", ToDb(before))))
            {
                await presence.ExecuteNonQueryAsync(cancellationToken);
            }

            int purged;
            await using (var nodes = Command(connection, transaction, "DELETE FROM parley_nodes WHERE seen_at < @before", ("before", ToDb(before))))
            {
                purged = await nodes.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return purged;
        }, cancellationToken);

    public Task<IReadOnlyList<Guid>> ListConnectedAgentsAsync(Guid tenantId, DateTimeOffset aliveSince, CancellationToken cancellationToken) =>
        QueryListAsync(
            "SELECT DISTINCT p.agent_id FROM agent_presence p JOIN parley_nodes n ON n.node_id = p.node_id " +
            "WHERE p.tenant_id = @tenant AND p.connections > 0 AND n.seen_at >= @alive",
            r => ReadGuid(r, 0),
            cancellationToken,
            ("tenant", ToDb(tenantId)), ("alive", ToDb(aliveSince)));

    public Task<IReadOnlyList<AgentAway>> ListAwayAgentsAsync(DateTimeOffset aliveSince, CancellationToken cancellationToken) =>
        QueryListAsync(
            // A connection on a node that stopped answering counts until the node was last seen.
            "SELECT p.agent_id, p.tenant_id, MAX(CASE WHEN p.connections > 0 THEN n.seen_at ELSE p.changed_at END) " +
            "FROM agent_presence p JOIN parley_nodes n ON n.node_id = p.node_id " +
            "WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.assigned_agent_id = p.agent_id AND c.status = 'open') " +
            "GROUP BY p.agent_id, p.tenant_id " +
            "HAVING SUM(CASE WHEN p.connections > 0 AND n.seen_at >= @alive THEN 1 ELSE 0 END) = 0",
            r => new AgentAway(ReadGuid(r, 0), ReadGuid(r, 1), ReadTime(r, 2)),
            cancellationToken,
            ("alive", ToDb(aliveSince)));
}
