namespace Parley.Storage;

public abstract partial class SqlParleyStore : IAgentStore
{
    public Task CreateAgentAsync(Agent agent, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO agents (id, tenant_id, email, email_normalized, display_name, password_hash, role, capacity, created_at, queues) " +
            "VALUES (@id, @tenant, @email, @normalized, @name, @hash, @role, @capacity, @at, @queues)",
            cancellationToken,
            ("id", ToDb(agent.Id)),
            ("tenant", ToDb(agent.TenantId)),
            ("email", agent.Email),
            ("normalized", agent.Email.ToUpperInvariant()),
            ("name", agent.DisplayName),
            ("hash", agent.PasswordHash),
            ("role", agent.Role.ToString().ToLowerInvariant()),
            ("capacity", agent.Capacity),
            ("at", ToDb(agent.CreatedAt)),
            ("queues", QueuesJson(agent.Queues)));

    private const string AgentColumns = "id, tenant_id, email, display_name, password_hash, role, capacity, created_at, queues";

    public Task<Agent?> GetAgentAsync(Guid agentId, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {AgentColumns} FROM agents WHERE id = @id", ReadAgent, cancellationToken, ("id", ToDb(agentId)));

    public Task<Agent?> FindAgentByEmailAsync(string email, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            $"SELECT {AgentColumns} FROM agents WHERE email_normalized = @email",
            ReadAgent,
            cancellationToken,
            ("email", email.ToUpperInvariant()));

    private Agent ReadAgent(DbDataReader r) =>
        new(ReadGuid(r, 0), ReadGuid(r, 1), r.GetString(2), r.GetString(3), r.GetString(4),
            Enum.Parse<AgentRole>(r.GetString(5), ignoreCase: true), r.GetInt32(6), ReadTime(r, 7),
            r.IsDBNull(8) ? null : JsonSerializer.Deserialize(r.GetString(8), DomainJsonContext.Default.ListString));

    private static string? QueuesJson(IReadOnlyList<string>? queues) =>
        queues is null ? null : JsonSerializer.Serialize(queues.ToList(), DomainJsonContext.Default.ListString);


    public Task<IReadOnlyList<Agent>> ListAgentsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QueryListAsync($"SELECT {AgentColumns} FROM agents WHERE tenant_id = @tenant ORDER BY display_name, id", ReadAgent, cancellationToken,
            ("tenant", ToDb(tenantId)));

    public async Task<bool> SetAgentRoutingAsync(Guid agentId, IReadOnlyList<string>? queues, int capacity, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE agents SET queues = @queues, capacity = @capacity WHERE id = @id", cancellationToken,
            ("queues", QueuesJson(queues)), ("capacity", capacity), ("id", ToDb(agentId))) == 1;

    public Task CreateAgentSessionAsync(AgentSession session, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO agent_sessions (token_hash, agent_id, tenant_id, created_at, expires_at) VALUES (@hash, @agent, @tenant, @at, @expires)",
            cancellationToken,
            ("hash", session.TokenHash),
            ("agent", ToDb(session.AgentId)),
            ("tenant", ToDb(session.TenantId)),
            ("at", ToDb(session.CreatedAt)),
            ("expires", ToDb(session.ExpiresAt)));

    public Task<AgentSession?> GetAgentSessionAsync(string tokenHash, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT token_hash, agent_id, tenant_id, created_at, expires_at FROM agent_sessions WHERE token_hash = @hash",
            r => new AgentSession(r.GetString(0), ReadGuid(r, 1), ReadGuid(r, 2), ReadTime(r, 3), ReadTime(r, 4)),
            cancellationToken,
            ("hash", tokenHash));

    public async Task<bool> DeleteAgentSessionAsync(string tokenHash, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM agent_sessions WHERE token_hash = @hash", cancellationToken, ("hash", tokenHash)) > 0;
}
