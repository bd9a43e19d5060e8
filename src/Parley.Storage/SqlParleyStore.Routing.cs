namespace Parley.Storage;

public abstract partial class SqlParleyStore : IRoutingStore
{
    private const string WaitingFilter = "tenant_id = @tenant AND status = 'open' AND assigned_agent_id IS NULL AND queue IS NOT NULL";

    private const string WaitingOrder = "ORDER BY priority DESC, queued_at, id";

    public Task<AssignOutcome> TryAssignConversationAsync(
        Guid conversationId, Guid agentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            if (await LockAgentWithRoomAsync(connection, transaction, agentId, cancellationToken) is not { } agent)
            {
                return AssignOutcome.AtCapacity;
            }

            var assigned = await AssignAsync(connection, transaction, conversationId, agent, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return assigned ? AssignOutcome.Assigned : AssignOutcome.Taken;
        }, cancellationToken);

    public Task<TakeResult> TakeNextConversationAsync(Guid agentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            if (await LockAgentWithRoomAsync(connection, transaction, agentId, cancellationToken) is not { } agent)
            {
                return new TakeResult(AssignOutcome.AtCapacity, null);
            }

            if (agent.Queues is { Count: 0 })
            {
                return new TakeResult(AssignOutcome.NoneWaiting, null);
            }

            var (queueFilter, queueParameters) = QueueFilter(agent.Queues);
            Guid? next;
            await using (var select = Command(connection, transaction,
                $"SELECT id FROM conversations WHERE {WaitingFilter}{queueFilter} {WaitingOrder} LIMIT 1{ForUpdateSkipLocked}",
                [("tenant", ToDb(agent.TenantId)), .. queueParameters]))
            {
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                next = await reader.ReadAsync(cancellationToken) ? ReadGuid(reader, 0) : null;
            }

            if (next is not { } conversationId || !await AssignAsync(connection, transaction, conversationId, agent, now, cancellationToken))
            {
                return new TakeResult(AssignOutcome.NoneWaiting, null);
            }

            await transaction.CommitAsync(cancellationToken);
            return new TakeResult(AssignOutcome.Assigned, conversationId);
        }, cancellationToken);

    /// <summary>Locks the agent's row (so that concurrent assignments to them queue up) and returns the agent if they have room.</summary>
    private async Task<Agent?> LockAgentWithRoomAsync(
        DbConnection connection, DbTransaction transaction, Guid agentId, CancellationToken cancellationToken)
    {
        Agent? agent;
        await using (var select = Command(connection, transaction, $"SELECT {AgentColumns} FROM agents WHERE id = @id{ForUpdate}", ("id", ToDb(agentId))))
        {
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            agent = await reader.ReadAsync(cancellationToken) ? ReadAgent(reader) : null;
        }

        if (agent is null)
        {
            return null;
        }

        await using var count = Command(connection, transaction,
            "SELECT COUNT(*) FROM conversations WHERE assigned_agent_id = @agent AND status = 'open'", ("agent", ToDb(agentId)));
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken)) < agent.Capacity ? agent : null;
    }

    private async Task<bool> AssignAsync(
        DbConnection connection, DbTransaction transaction, Guid conversationId, Agent agent, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var update = Command(connection, transaction,
            "UPDATE conversations SET assigned_agent_id = @agent, routed_until = NULL, updated_at = @at " +
            "WHERE id = @id AND tenant_id = @tenant AND status = 'open' AND assigned_agent_id IS NULL",
            ("agent", ToDb(agent.Id)), ("at", ToDb(now)), ("id", ToDb(conversationId)), ("tenant", ToDb(agent.TenantId)));
        return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static (string Sql, (string, object?)[] Parameters) QueueFilter(IReadOnlyList<string>? queues)
    {
        if (queues is null)
        {
            return ("", []);
        }

        var (list, parameters) = InList("q", queues);
        return ($" AND queue IN ({list})", parameters);
    }

    public Task<IReadOnlyList<Conversation>> ListWaitingConversationsAsync(
        Guid tenantId, IReadOnlyList<string>? queues, int limit, CancellationToken cancellationToken)
    {
        if (queues is { Count: 0 })
        {
            return Task.FromResult<IReadOnlyList<Conversation>>([]);
        }

        var (queueFilter, queueParameters) = QueueFilter(queues);
        return QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE {WaitingFilter}{queueFilter} {WaitingOrder} LIMIT @limit",
            ReadConversation,
            cancellationToken,
            [("tenant", ToDb(tenantId)), ("limit", limit), .. queueParameters]);
    }

    public async Task<bool> RouteConversationAsync(
        Guid conversationId, string queue, int priority, string? rule, DateTimeOffset? routedUntil, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "UPDATE conversations SET queue = @queue, priority = @priority, routing_rule = @rule, routed_until = @until, updated_at = @at, " +
            "queued_at = CASE WHEN queue IS NULL THEN @at ELSE queued_at END " +
            "WHERE id = @id AND status = 'open' AND assigned_agent_id IS NULL",
            cancellationToken,
            ("queue", queue), ("priority", priority), ("rule", rule), ("until", routedUntil is { } until ? ToDb(until) : null),
            ("at", ToDb(now)), ("id", ToDb(conversationId))) == 1;

    public Task<IReadOnlyList<Guid>> ReturnAgentConversationsAsync(Guid agentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        QueryListAsync(
            "UPDATE conversations SET assigned_agent_id = NULL, updated_at = @at WHERE assigned_agent_id = @agent AND status = 'open' RETURNING id",
            r => ReadGuid(r, 0),
            cancellationToken,
            ("at", ToDb(now)), ("agent", ToDb(agentId)));

    public Task<IReadOnlyList<Conversation>> ListConversationsToRerouteAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations " +
            "WHERE routed_until <= @now AND status = 'open' AND assigned_agent_id IS NULL ORDER BY routed_until LIMIT @limit",
            ReadConversation,
            cancellationToken,
            ("now", ToDb(now)), ("limit", limit));

    public async Task<IReadOnlyDictionary<Guid, int>> CountAssignedConversationsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        (await QueryListAsync(
            "SELECT assigned_agent_id, COUNT(*) FROM conversations " +
            "WHERE tenant_id = @tenant AND status = 'open' AND assigned_agent_id IS NOT NULL GROUP BY assigned_agent_id",
            r => (Agent: ReadGuid(r, 0), Count: Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)),
            cancellationToken,
            ("tenant", ToDb(tenantId))))
        .ToDictionary(row => row.Agent, row => row.Count);

    public async Task<IReadOnlyList<QueueStatistics>> GetQueueStatisticsAsync(
        Guid? tenantId, DateTimeOffset respondedSince, CancellationToken cancellationToken)
    {
        var tenantFilter = tenantId is null ? "" : " AND tenant_id = @tenant";
        var tenant = ("tenant", tenantId is { } id ? ToDb(id) : null);
        var waiting = await QueryListAsync(
            "SELECT tenant_id, queue, COUNT(*), MIN(queued_at) FROM conversations " +
            $"WHERE status = 'open' AND assigned_agent_id IS NULL AND queue IS NOT NULL{tenantFilter} GROUP BY tenant_id, queue",
            r => (Tenant: ReadGuid(r, 0), Queue: r.GetString(1), Count: ToInt(r.GetValue(2)), Oldest: r.IsDBNull(3) ? (DateTimeOffset?)null : ReadTime(r, 3)),
            cancellationToken,
            tenant);
        var responded = await QueryListAsync(
            "SELECT tenant_id, queue, COUNT(*), AVG(first_response_ms) FROM conversations " +
            $"WHERE first_response_at >= @since AND queue IS NOT NULL{tenantFilter} GROUP BY tenant_id, queue",
            r => (Tenant: ReadGuid(r, 0), Queue: r.GetString(1), Count: ToInt(r.GetValue(2)),
                Average: r.IsDBNull(3) ? (double?)null : Convert.ToDouble(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)),
            cancellationToken,
            ("since", ToDb(respondedSince)), tenant);
        return waiting.Select(w => (w.Tenant, w.Queue))
            .Union(responded.Select(r => (r.Tenant, r.Queue)))
            .Select(key =>
            {
                var w = waiting.FirstOrDefault(x => x.Tenant == key.Tenant && x.Queue == key.Queue);
                var r = responded.FirstOrDefault(x => x.Tenant == key.Tenant && x.Queue == key.Queue);
                return new QueueStatistics(key.Tenant, key.Queue, w.Count, w.Oldest, r.Count, r.Average);
            })
            .OrderBy(q => q.TenantId).ThenBy(q => q.Queue, StringComparer.Ordinal)
            .ToList();
    }

    private static int ToInt(object value) => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);


    public Task<RoutingConfiguration?> GetRoutingConfigurationAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT body FROM routing_configurations WHERE tenant_id = @tenant",
            r => JsonSerializer.Deserialize(r.GetString(0), DomainJsonContext.Default.RoutingConfiguration)!,
            cancellationToken,
            ("tenant", ToDb(tenantId)));

    public Task SaveRoutingConfigurationAsync(Guid tenantId, RoutingConfiguration configuration, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO routing_configurations (tenant_id, body, updated_at) VALUES (@tenant, @body, @at) " +
            "ON CONFLICT (tenant_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            cancellationToken,
            ("tenant", ToDb(tenantId)),
            ("body", JsonSerializer.Serialize(configuration, DomainJsonContext.Default.RoutingConfiguration)),
            ("at", ToDb(now)));
}
