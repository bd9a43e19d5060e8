using System.Data.Common;
using System.Text.Json;
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
/// The SQL shared by the relational providers. A provider supplies its connections, its
/// migrations, how it stores ids and times, its locking and its error classification; the SQL
/// here is the subset both SQLite and PostgreSQL accept (ON CONFLICT, RETURNING, partial indexes).
/// </summary>
public abstract class SqlParleyStore : IParleyStore
{
    /// <summary>Encryption at rest of message bodies and verified claims (none unless the host sets one).</summary>
    public IFieldProtector FieldProtector { get; set; } = NoFieldProtection.Instance;

    private const string ConversationColumns =
        "id, tenant_id, deployment_id, consumer_id, status, queue, assigned_agent_id, last_seq, attributes, created_at, updated_at, closed_at, authenticated, bot_case, " +
        "priority, routing_rule, queued_at, first_response_at, routed_until";

    protected const string MessageColumns =
        "conversation_id, seq, kind, sender_role, sender_id, client_message_id, body, sent_at, data";

    /// <summary>The provider's schema steps, in version order.</summary>
    protected abstract IReadOnlyList<SqlMigration> Migrations { get; }

    /// <summary>Opens a connection configured for this provider.</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Starts a transaction that will write; SQLite takes the write lock at once.</summary>
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// How many rows one multi-row statement of a batch carries. Large where a statement is a
    /// round trip (PostgreSQL); small where binding many named parameters costs more than another
    /// in-process statement (SQLite).
    /// </summary>
    protected virtual int RowsPerStatement => 200;

    /// <summary>
    /// Called before a statement that writes outside an explicit transaction. Where the database
    /// takes one writer at a time (SQLite), the provider makes this process's writers take turns
    /// here rather than collide on the database's lock.
    /// </summary>
    protected virtual Task EnterWriteAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>SQL run first in each migration transaction so that concurrent nodes migrate one at a time, or null.</summary>
    protected abstract string? MigrationLockSql { get; }

    /// <summary>SELECT last_seq of conversation @id, locking the row until the transaction ends.</summary>
    protected abstract string LockConversationSql { get; }

    /// <summary>What follows a SELECT to lock its rows until the transaction ends (" FOR UPDATE"), or "" where the write transaction already serializes.</summary>
    protected abstract string ForUpdate { get; }

    /// <summary>Like <see cref="ForUpdate"/>, passing over rows another transaction has locked.</summary>
    protected abstract string ForUpdateSkipLocked { get; }

    /// <summary>The SQL for the larger of two values.</summary>
    protected abstract string Greatest(string left, string right);

    protected abstract object ToDb(Guid value);

    protected abstract Guid ReadGuid(DbDataReader reader, int ordinal);

    protected abstract object ToDb(DateTimeOffset value);

    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    /// <summary>True when the error says a unique key is taken.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>True when the error is the database being unreachable, locked, read-only or full.</summary>
    protected abstract bool IsUnavailable(Exception exception);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await RunAsync(async connection =>
        {
            foreach (var migration in Migrations.OrderBy(m => m.Version))
            {
                // One transaction per step, holding the migration lock, so that nodes starting
                // together apply each step exactly once.
                await using var transaction = await BeginWriteAsync(connection, cancellationToken);
                if (MigrationLockSql is { } lockSql)
                {
                    await using var lockCommand = Command(connection, transaction, lockSql);
                    await lockCommand.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var create = Command(connection, transaction,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"))
                {
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }

                if (await ReadSchemaVersionAsync(connection, transaction, cancellationToken) >= migration.Version)
                {
                    await transaction.RollbackAsync(cancellationToken);
                    continue;
                }

                await using (var step = Command(connection, transaction, migration.Sql))
                {
                    await step.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = Command(connection, transaction,
                    "INSERT INTO schema_migrations (version, description, applied_at) VALUES (@v, @d, @at)",
                    ("v", migration.Version), ("d", migration.Description), ("at", DateTimeOffset.UtcNow.ToString("O"))))
                {
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }

            return true;
        }, cancellationToken);
    }

    public Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var exists = Command(connection, null, SchemaMigrationsExistsSql);
            return Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken)) == 0
                ? 0
                : await ReadSchemaVersionAsync(connection, null, cancellationToken);
        }, cancellationToken);

    /// <summary>A query returning 1 when the schema_migrations table exists, else 0.</summary>
    protected abstract string SchemaMigrationsExistsSql { get; }

    private static async Task<int> ReadSchemaVersionAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(async connection =>
            {
                // Reads a table, not just "SELECT 1", so a locked or missing database file is noticed.
                await using var command = Command(connection, null, "SELECT COUNT(*) FROM schema_migrations");
                return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) > 0;
            }, cancellationToken);
        }
        catch (StorageUnavailableException)
        {
            return false;
        }
    }

    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO tenants (id, name, created_at) VALUES (@id, @name, @at)",
            cancellationToken,
            ("id", ToDb(tenant.Id)), ("name", tenant.Name), ("at", ToDb(tenant.CreatedAt)));

    public Task<Tenant?> GetTenantAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT id, name, created_at FROM tenants WHERE id = @id",
            r => new Tenant(ReadGuid(r, 0), r.GetString(1), ReadTime(r, 2)),
            cancellationToken,
            ("id", ToDb(tenantId)));

    public Task CreateDeploymentAsync(Deployment deployment, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO deployments (id, tenant_id, name, allowed_origins, created_at, authentication_settings_id, bot, messenger) VALUES (@id, @tenant, @name, @origins, @at, @settings, @bot, @messenger)",
            cancellationToken,
            ("id", ToDb(deployment.Id)),
            ("tenant", ToDb(deployment.TenantId)),
            ("name", deployment.Name),
            ("origins", JsonSerializer.Serialize(deployment.AllowedOrigins.ToList(), DomainJsonContext.Default.ListString)),
            ("at", ToDb(deployment.CreatedAt)),
            ("settings", deployment.AuthenticationSettingsId is { } settings ? ToDb(settings) : null),
            ("bot", BotJson(deployment.Bot)),
            ("messenger", MessengerJson(deployment.Messenger)));

    public Task SetDeploymentMessengerAsync(Guid deploymentId, MessengerSettings? messenger, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "messenger", MessengerJson(messenger), cancellationToken);

    /// <summary>Replaces one of a deployment's JSON settings columns (a constant name, never input).</summary>
    private Task<int> SetDeploymentColumnAsync(Guid deploymentId, string column, string? json, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE deployments SET {column} = @value WHERE id = @id", cancellationToken, ("value", json), ("id", ToDb(deploymentId)));

    private static string? MessengerJson(MessengerSettings? messenger) =>
        messenger is null ? null : JsonSerializer.Serialize(messenger, DomainJsonContext.Default.MessengerSettings);

    public Task SetDeploymentBotAsync(Guid deploymentId, BotSettings? bot, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "bot", BotJson(bot), cancellationToken);

    private static string? BotJson(BotSettings? bot) =>
        bot is null ? null : JsonSerializer.Serialize(bot, DomainJsonContext.Default.BotSettings);

    public Task SetDeploymentAuthenticationSettingsAsync(Guid deploymentId, Guid? settingsId, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE deployments SET authentication_settings_id = @settings WHERE id = @id",
            cancellationToken,
            ("settings", settingsId is { } id ? ToDb(id) : null),
            ("id", ToDb(deploymentId)));

    private const string DeploymentColumns = "id, tenant_id, name, allowed_origins, created_at, authentication_settings_id, bot, messenger";

    public Task<Deployment?> GetDeploymentAsync(Guid deploymentId, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {DeploymentColumns} FROM deployments WHERE id = @id", ReadDeployment, cancellationToken, ("id", ToDb(deploymentId)));

    public Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QueryListAsync($"SELECT {DeploymentColumns} FROM deployments WHERE tenant_id = @tenant ORDER BY name, id", ReadDeployment, cancellationToken, ("tenant", ToDb(tenantId)));

    public Task SetDeploymentOriginsAsync(Guid deploymentId, IReadOnlyList<string> origins, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "allowed_origins", JsonSerializer.Serialize(origins.ToList(), DomainJsonContext.Default.ListString), cancellationToken);

    private Deployment ReadDeployment(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            ReadGuid(r, 1),
            r.GetString(2),
            JsonSerializer.Deserialize(r.GetString(3), DomainJsonContext.Default.ListString) ?? [],
            ReadTime(r, 4),
            r.IsDBNull(5) ? null : ReadGuid(r, 5),
            r.IsDBNull(6) ? null : JsonSerializer.Deserialize(r.GetString(6), DomainJsonContext.Default.BotSettings),
            r.IsDBNull(7) ? null : JsonSerializer.Deserialize(r.GetString(7), DomainJsonContext.Default.MessengerSettings));

    public Task CreateConsumerAsync(Consumer consumer, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO consumers (id, tenant_id, issuer, subject, created_at) VALUES (@id, @tenant, @iss, @sub, @at)",
            cancellationToken,
            ("id", ToDb(consumer.Id)),
            ("tenant", ToDb(consumer.TenantId)),
            ("iss", consumer.Issuer),
            ("sub", consumer.Subject),
            ("at", ToDb(consumer.CreatedAt)));

    public Task<Consumer?> GetConsumerAsync(Guid consumerId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT id, tenant_id, issuer, subject, created_at FROM consumers WHERE id = @id",
            ReadConsumer,
            cancellationToken,
            ("id", ToDb(consumerId)));

    public Task<Consumer> GetOrCreateAuthenticatedConsumerAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(connection => GetOrCreateAuthenticatedConsumerAsync(connection, null, tenantId, issuer, subject, now, cancellationToken), cancellationToken);

    public Task<Consumer> SignInAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, Func<Consumer, (VerifiedIdentity Identity, ConsumerSession Session)> proved,
        CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            // One transaction, one commit: a login storm is bound by commits (fsync), not by queries.
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            var consumer = await GetOrCreateAuthenticatedConsumerAsync(connection, transaction, tenantId, issuer, subject, now, cancellationToken);
            var (identity, session) = proved(consumer);
            await SaveVerifiedIdentityAsync(connection, transaction, identity, cancellationToken);
            await CreateConsumerSessionAsync(connection, transaction, session, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return consumer;
        }, cancellationToken);

    private async Task<Consumer> GetOrCreateAuthenticatedConsumerAsync(
        DbConnection connection, DbTransaction? transaction, Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // ON CONFLICT DO NOTHING makes concurrent first logins race safely to one row.
        await using (var insert = Command(connection, transaction,
            "INSERT INTO consumers (id, tenant_id, issuer, subject, created_at) VALUES (@id, @tenant, @iss, @sub, @at) " +
            "ON CONFLICT (tenant_id, issuer, subject) WHERE issuer IS NOT NULL DO NOTHING",
            ("id", ToDb(Guid.NewGuid())), ("tenant", ToDb(tenantId)), ("iss", issuer), ("sub", subject), ("at", ToDb(now))))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var select = Command(connection, transaction,
            "SELECT id, tenant_id, issuer, subject, created_at FROM consumers WHERE tenant_id = @tenant AND issuer = @iss AND subject = @sub",
            ("tenant", ToDb(tenantId)), ("iss", issuer), ("sub", subject));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ReadConsumer(reader);
    }

    private Consumer ReadConsumer(DbDataReader r) =>
        new(ReadGuid(r, 0), ReadGuid(r, 1), NullableString(r, 2), NullableString(r, 3), ReadTime(r, 4));

    public Task CreateConsumerSessionAsync(ConsumerSession session, CancellationToken cancellationToken) =>
        WriteAsync(connection => CreateConsumerSessionAsync(connection, null, session, cancellationToken), cancellationToken);

    private async Task<int> CreateConsumerSessionAsync(DbConnection connection, DbTransaction? transaction, ConsumerSession session, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO consumer_sessions (token_hash, consumer_id, tenant_id, deployment_id, created_at, expires_at) " +
            "VALUES (@hash, @consumer, @tenant, @deployment, @at, @expires)",
            ("hash", session.TokenHash),
            ("consumer", ToDb(session.ConsumerId)),
            ("tenant", ToDb(session.TenantId)),
            ("deployment", ToDb(session.DeploymentId)),
            ("at", ToDb(session.CreatedAt)),
            ("expires", ToDb(session.ExpiresAt)));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<ConsumerSession?> GetConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT token_hash, consumer_id, tenant_id, deployment_id, created_at, expires_at FROM consumer_sessions WHERE token_hash = @hash",
            r => new ConsumerSession(r.GetString(0), ReadGuid(r, 1), ReadGuid(r, 2), ReadGuid(r, 3), ReadTime(r, 4), ReadTime(r, 5)),
            cancellationToken,
            ("hash", tokenHash));

    public async Task<bool> DeleteConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken) =>
        await ExecuteAsync("DELETE FROM consumer_sessions WHERE token_hash = @hash", cancellationToken, ("hash", tokenHash)) > 0;

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

    /// <summary>The tables whose rows belong to a conversation (deleted before it).</summary>
    private static readonly string[] ConversationChildren = ["messages", "receipts", "login_states"];

    public Task<int> DeleteClosedConversationsAsync(DateTimeOffset closedBefore, int limit, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            var ids = new List<object?>();
            await using (var select = Command(connection, transaction,
                $"SELECT id FROM conversations WHERE status = 'closed' AND closed_at < @before ORDER BY closed_at LIMIT @limit{ForUpdate}",
                [("before", ToDb(closedBefore)), ("limit", limit)]))
            {
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    ids.Add(ToDb(ReadGuid(reader, 0)));
                }
            }

            if (ids.Count > 0)
            {
                var (list, parameters) = InList("c", ids);
                foreach (var table in ConversationChildren)
                {
                    await using var delete = Command(connection, transaction, $"DELETE FROM {table} WHERE conversation_id IN ({list})", parameters);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var conversations = Command(connection, transaction, $"DELETE FROM conversations WHERE id IN ({list})", parameters);
                await conversations.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return ids.Count;
        }, cancellationToken);

    public Task AppendAuditEventsAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            await using var statements = new Statements(connection, transaction);
            foreach (var auditEvent in auditEvents)
            {
                await statements.For(
                    "INSERT INTO audit_events (id, tenant_id, at, kind, outcome, actor_type, actor_id, deployment_id, conversation_id, subject, reason, detail) " +
                    "VALUES (@id, @tenant, @at, @kind, @outcome, @actorType, @actor, @deployment, @conversation, @subject, @reason, @detail)",
                    [
                        ("id", ToDb(auditEvent.Id)),
                        ("tenant", ToDb(auditEvent.TenantId)),
                        ("at", ToDb(auditEvent.At)),
                        ("kind", auditEvent.Kind),
                        ("outcome", auditEvent.Outcome),
                        ("actorType", auditEvent.ActorType),
                        ("actor", auditEvent.ActorId is { } actor ? ToDb(actor) : null),
                        ("deployment", auditEvent.DeploymentId is { } deployment ? ToDb(deployment) : null),
                        ("conversation", auditEvent.ConversationId is { } conversation ? ToDb(conversation) : null),
                        ("subject", auditEvent.Subject),
                        ("reason", auditEvent.Reason),
                        ("detail", auditEvent.Detail),
                    ]).ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return auditEvents.Count;
        }, cancellationToken);

    public Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(Guid tenantId, string? kind, DateTimeOffset? before, int limit, CancellationToken cancellationToken)
    {
        var filters = (kind is null ? "" : " AND kind = @kind") + (before is null ? "" : " AND at < @before");
        var parameters = new List<(string, object?)> { ("tenant", ToDb(tenantId)), ("limit", limit) };
        if (kind is not null)
        {
            parameters.Add(("kind", kind));
        }

        if (before is { } time)
        {
            parameters.Add(("before", ToDb(time)));
        }

        return QueryListAsync(
            "SELECT id, tenant_id, at, kind, outcome, actor_type, actor_id, deployment_id, conversation_id, subject, reason, detail " +
            $"FROM audit_events WHERE tenant_id = @tenant{filters} ORDER BY at DESC, id LIMIT @limit",
            r => new AuditEvent(
                ReadGuid(r, 0), ReadGuid(r, 1), ReadTime(r, 2), r.GetString(3), r.GetString(4), r.GetString(5),
                r.IsDBNull(6) ? null : ReadGuid(r, 6), r.IsDBNull(7) ? null : ReadGuid(r, 7), r.IsDBNull(8) ? null : ReadGuid(r, 8),
                NullableString(r, 9), NullableString(r, 10), NullableString(r, 11)),
            cancellationToken,
            [.. parameters]);
    }

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

    public Task CreateConversationAsync(Conversation conversation, CancellationToken cancellationToken)
    {
        if (conversation.LastSeq != 0)
        {
            throw new ArgumentException("A new conversation has no messages (LastSeq must be 0).", nameof(conversation));
        }

        return ExecuteAsync(
            $"INSERT INTO conversations ({ConversationColumns}) VALUES (@id, @tenant, @deployment, @consumer, @status, @queue, @agent, 0, @attributes, @at, @at, NULL, @authenticated, @case, " +
            "@priority, @rule, @queued, NULL, @until)",
            cancellationToken,
            ("id", ToDb(conversation.Id)),
            ("tenant", ToDb(conversation.TenantId)),
            ("deployment", ToDb(conversation.DeploymentId)),
            ("consumer", ToDb(conversation.ConsumerId)),
            ("status", StatusName(conversation.Status)),
            ("queue", conversation.Queue),
            ("agent", conversation.AssignedAgentId is { } agent ? ToDb(agent) : null),
            ("attributes", conversation.Attributes.ToJson()),
            ("at", ToDb(conversation.CreatedAt)),
            ("authenticated", conversation.Authenticated ? 1 : 0),
            ("case", conversation.BotCase),
            ("priority", conversation.Priority),
            ("rule", conversation.RoutingRule),
            ("queued", ToDb(conversation.QueuedAt ?? conversation.CreatedAt)),
            ("until", conversation.RoutedUntil is { } until ? ToDb(until) : null));
    }

    public Task<Conversation?> GetConversationAsync(Guid conversationId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE id = @id",
            ReadConversation,
            cancellationToken,
            ("id", ToDb(conversationId)));

    public Task<IReadOnlyList<Conversation>> ListConversationsByConsumerAsync(Guid consumerId, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE consumer_id = @consumer ORDER BY created_at DESC, id",
            ReadConversation,
            cancellationToken,
            ("consumer", ToDb(consumerId)));

    public Task<IReadOnlyList<Conversation>> ListConversationsByTenantAsync(
        Guid tenantId, ConversationStatus? status, int limit, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {ConversationColumns} FROM conversations WHERE tenant_id = @tenant " +
            (status is null ? "" : "AND status = @status ") +
            "ORDER BY created_at, id LIMIT @limit",
            ReadConversation,
            cancellationToken,
            ("tenant", ToDb(tenantId)),
            ("status", status is { } s ? StatusName(s) : null),
            ("limit", limit));

    /// <summary>
    /// The SQL for one member of a JSON object column as text (<paramref name="keyParameter"/> names
    /// the parameter holding the member's name; names with a quote or a backslash are not searchable).
    /// </summary>
    protected abstract string JsonMember(string column, string keyParameter);

    public Task<IReadOnlyList<Conversation>> SearchConversationsAsync(
        Guid tenantId, ConversationSearch search, CancellationToken cancellationToken)
    {
        var where = new List<string> { "c.tenant_id = @tenant" };
        if (search.Status is not null)
        {
            where.Add("c.status = @status");
        }

        if (search.AssignedAgentId is not null)
        {
            where.Add("c.assigned_agent_id = @agent");
        }

        if (search.From is not null)
        {
            where.Add("c.created_at >= @from");
        }

        if (search.To is not null)
        {
            where.Add("c.created_at < @to");
        }

        if (search.Consumer is not null)
        {
            // A consumer id, a verified subject, or part of a verified claim (name, email, phone…).
            where.Add("(c.consumer_id = @consumerId OR EXISTS (SELECT 1 FROM verified_identities v WHERE v.consumer_id = c.consumer_id " +
                "AND (v.subject = @consumer OR lower(v.verified_claims) LIKE @consumerLike ESCAPE '!')))");
        }

        if (search.Text is not null)
        {
            where.Add($"EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = {(int)MessageKind.Text} AND lower(m.body) LIKE @textLike ESCAPE '!')");
        }

        if (search.AttributeName is not null)
        {
            where.Add($"lower({JsonMember("c.attributes", "@attributeName")}) = @attributeValue");
        }

        return QueryListAsync(
            $"SELECT {string.Join(", ", ConversationColumns.Split(", ").Select(column => "c." + column))} FROM conversations c " +
            $"WHERE {string.Join(" AND ", where)} ORDER BY c.created_at DESC, c.id LIMIT @limit",
            ReadConversation,
            cancellationToken,
            ("tenant", ToDb(tenantId)),
            ("status", search.Status is { } status ? StatusName(status) : null),
            ("from", search.From is { } from ? ToDb(from) : null),
            ("to", search.To is { } to ? ToDb(to) : null),
            ("consumerId", Guid.TryParse(search.Consumer, out var consumerId) ? ToDb(consumerId) : ToDb(Guid.Empty)),
            ("consumer", search.Consumer),
            ("consumerLike", Contains(search.Consumer)),
            ("textLike", Contains(search.Text)),
            ("attributeName", search.AttributeName),
            ("attributeValue", search.AttributeValue?.ToLowerInvariant()),
            ("agent", search.AssignedAgentId is { } agent ? ToDb(agent) : null),
            ("limit", search.Limit));
    }

    /// <summary>A LIKE pattern (escape character <c>!</c>) for a case-insensitive substring match.</summary>
    private static string? Contains(string? text) =>
        text is null ? null : "%" + text.ToLowerInvariant().Replace("!", "!!").Replace("%", "!%").Replace("_", "!_") + "%";

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

    public async Task<bool> SetConversationStatusAsync(
        Guid conversationId, ConversationStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sql = status == ConversationStatus.Closed
            ? "UPDATE conversations SET status = 'closed', closed_at = @at, updated_at = @at WHERE id = @id AND status = 'open'"
            : "UPDATE conversations SET status = 'open', closed_at = NULL, assigned_agent_id = NULL, queued_at = @at, updated_at = @at WHERE id = @id AND status = 'closed'";
        return await ExecuteAsync(sql, cancellationToken, ("at", ToDb(now)), ("id", ToDb(conversationId))) == 1;
    }

    public Task SetEngagementAttributesAsync(
        Guid conversationId, EngagementAttributes attributes, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE conversations SET attributes = @attributes, updated_at = @at WHERE id = @id",
            cancellationToken,
            ("attributes", attributes.ToJson()), ("at", ToDb(now)), ("id", ToDb(conversationId)));

    private Conversation ReadConversation(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            ReadGuid(r, 1),
            ReadGuid(r, 2),
            ReadGuid(r, 3),
            r.GetString(4) == "open" ? ConversationStatus.Open : ConversationStatus.Closed,
            NullableString(r, 5),
            r.IsDBNull(6) ? null : ReadGuid(r, 6),
            r.GetInt64(7),
            EngagementAttributes.FromJson(NullableString(r, 8)),
            ReadTime(r, 9),
            ReadTime(r, 10),
            r.IsDBNull(11) ? null : ReadTime(r, 11),
            Convert.ToInt64(r.GetValue(12), System.Globalization.CultureInfo.InvariantCulture) != 0,
            NullableString(r, 13),
            ToInt(r.GetValue(14)),
            NullableString(r, 15),
            r.IsDBNull(16) ? null : ReadTime(r, 16),
            r.IsDBNull(17) ? null : ReadTime(r, 17),
            r.IsDBNull(18) ? null : ReadTime(r, 18));

    public async Task<bool> TransferConversationAsync(
        Guid conversationId, Guid fromConsumerId, Guid toConsumerId, bool authenticated, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "UPDATE conversations SET consumer_id = @to, authenticated = @authenticated, updated_at = @at WHERE id = @id AND consumer_id = @from",
            cancellationToken,
            ("to", ToDb(toConsumerId)), ("authenticated", authenticated ? 1 : 0), ("at", ToDb(now)),
            ("id", ToDb(conversationId)), ("from", ToDb(fromConsumerId))) == 1;

    public Task SetConversationBotCaseAsync(Guid conversationId, string? botCase, DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE conversations SET bot_case = @case, updated_at = @at WHERE id = @id",
            cancellationToken,
            ("case", botCase), ("at", ToDb(now)), ("id", ToDb(conversationId)));

    private static string StatusName(ConversationStatus status) => status == ConversationStatus.Open ? "open" : "closed";

    public async Task<IReadOnlyList<AppendResult>> AppendMessagesAsync(
        IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (message.ClientMessageId is not null && message.SenderId is null)
            {
                throw new ArgumentException("A message with a client message id needs a sender id.", nameof(messages));
            }
        }

        if (messages.Count == 0)
        {
            return [];
        }

        // A batch costs a few multi-row statements, not a few per message: lock its conversations,
        // look up its client message ids, insert its new messages, update its conversations.
        return await RunAsync(async connection =>
        {
            var results = new AppendResult[messages.Count];
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            await using var statements = new Statements(connection, transaction);

            // Locked in one order everywhere (the ids' text, which is how both databases order them),
            // so that concurrent batches on several nodes cannot deadlock.
            var conversationIds = messages.Select(m => m.ConversationId).Distinct()
                .OrderBy(id => id.ToString("D"), StringComparer.Ordinal).ToList();
            var conversations = new Dictionary<Guid, AppendState>();
            foreach (var chunk in conversationIds.Chunk(RowsPerStatement))
            {
                var (sql, parameters) = AppendStateQuery(chunk);
                var select = statements.For(sql, parameters);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    conversations[ReadGuid(reader, 0)] = ReadAppendState(reader);
                }
            }

            if (messages.FirstOrDefault(m => m.Guard is null && !conversations.ContainsKey(m.ConversationId)) is { } orphan)
            {
                throw new KeyNotFoundException($"Conversation {orphan.ConversationId} does not exist.");
            }

            var stored = await FindByClientIdsAsync(statements, messages, cancellationToken);
            var created = new List<Message>();
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                if (message.Guard is { } guard && conversations.GetValueOrDefault(message.ConversationId)?.Shows(guard) != true)
                {
                    results[i] = Refused(message, AppendRefusal.NotFound);
                    continue;
                }

                var key = message.ClientMessageId is { } clientId ? (message.ConversationId, message.SenderId!.Value, clientId) : default;
                if (message.ClientMessageId is not null && stored.TryGetValue(key, out var original))
                {
                    // Stored before, or earlier in this batch: the original, not a second copy.
                    results[i] = new AppendResult(original, Created: false);
                    continue;
                }

                var state = conversations[message.ConversationId];
                if (message.Guard is { } sender && state.Refuses(sender) is { } refusal)
                {
                    results[i] = Refused(message, refusal);
                    continue;
                }

                var appended = AsStored(message, ++state.LastSeq);
                state.LastSentAt = message.SentAt;
                if (!state.Responded && message is { SenderRole: ParticipantRole.Agent, Kind: MessageKind.Text })
                {
                    state.Responded = true;
                    state.FirstResponseAt = message.SentAt;
                }

                created.Add(appended);
                results[i] = new AppendResult(appended, Created: true);
                if (message.ClientMessageId is not null)
                {
                    stored[key] = appended;
                }
            }

            await InsertMessagesAsync(statements, created, cancellationToken);
            await UpdateConversationsAsync(statements, conversations, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (IReadOnlyList<AppendResult>)results;
        }, cancellationToken);
    }

    private AppendState ReadAppendState(DbDataReader r) => new(r.GetInt64(1), ReadTime(r, 2), !r.IsDBNull(3))
    {
        TenantId = ReadGuid(r, 4),
        ConsumerId = ReadGuid(r, 5),
        Open = r.GetString(6) == StatusName(ConversationStatus.Open),
        AssignedAgentId = r.IsDBNull(7) ? null : ReadGuid(r, 7),
    };

    /// <summary>The message as stored with this seq (0: not stored).</summary>
    private static Message AsStored(NewMessage message, long seq) => new(
        message.ConversationId, seq, message.Kind, message.SenderRole, message.SenderId, message.ClientMessageId, message.Text, message.SentAt, message.Data);

    private static AppendResult Refused(NewMessage message, AppendRefusal refusal) => new(AsStored(message, 0), Created: false, refusal);

    /// <summary>What appending a batch reads and changes on one conversation.</summary>
    private sealed class AppendState(long lastSeq, DateTimeOffset queuedAt, bool responded)
    {
        public required Guid TenantId { get; init; }

        public required Guid ConsumerId { get; init; }

        public required bool Open { get; init; }

        public required Guid? AssignedAgentId { get; init; }

        /// <summary>Whether the guard's sender may see the conversation at all.</summary>
        public bool Shows(AppendGuard guard) =>
            TenantId == guard.TenantId && (guard.ConsumerId is not { } consumer || consumer == ConsumerId);

        /// <summary>Why the guard's sender may not write to it now, if they may not.</summary>
        public AppendRefusal? Refuses(AppendGuard guard) =>
            !Open ? AppendRefusal.Closed
            : guard.AgentId is { } agent && agent != AssignedAgentId ? AppendRefusal.NotAssigned
            : null;

        public long FirstSeq { get; } = lastSeq;

        public long LastSeq { get; set; } = lastSeq;

        public DateTimeOffset QueuedAt { get; } = queuedAt;

        public bool Responded { get; set; } = responded;

        public DateTimeOffset LastSentAt { get; set; }

        /// <summary>Set when an agent answers for the first time in this batch.</summary>
        public DateTimeOffset? FirstResponseAt { get; set; }
    }

    /// <summary>The batch's messages that were stored before, by (conversation, sender, client message id).</summary>
    private async Task<Dictionary<(Guid, Guid, string), Message>> FindByClientIdsAsync(
        Statements statements, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(Guid, Guid, string), Message>();
        var keys = messages.Where(m => m.ClientMessageId is not null)
            .Select(m => (m.ConversationId, Sender: m.SenderId!.Value, ClientId: m.ClientMessageId!))
            .Distinct()
            .ToList();
        if (keys.Count == 0)
        {
            return found;
        }

        // At most 200 keys per statement keep an OR of terms under SQLite's expression depth limit.
        foreach (var chunk in keys.Chunk(Math.Min(200, RowsPerStatement)))
        {
            var (sql, parameters) = ClientIdLookup(chunk);
            var select = statements.For(sql, parameters);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var message = ReadMessage(reader);
                if (message is { SenderId: { } sender, ClientMessageId: { } clientId })
                {
                    found[(message.ConversationId, sender, clientId)] = message;
                }
            }
        }

        return found;
    }

    /// <summary>Inserts messages with multi-row INSERTs of <see cref="RowsPerStatement"/> rows.</summary>
    private async Task InsertMessagesAsync(Statements statements, List<Message> created, CancellationToken cancellationToken)
    {
        foreach (var chunk in created.Chunk(RowsPerStatement))
        {
            var (sql, parameters) = MessageInsert(chunk);
            await statements.For(sql, parameters).ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A SELECT of <see cref="MessageColumns"/> for the messages with these (conversation, sender,
    /// client message id) keys: one exact key per term, so that each is a look-up in the unique index.
    /// </summary>
    protected virtual (string Sql, (string, object?)[] Parameters) ClientIdLookup(
        IReadOnlyList<(Guid ConversationId, Guid Sender, string ClientId)> keys) =>
        ($"SELECT {MessageColumns} FROM messages WHERE " +
            string.Join(" OR ", keys.Select((_, i) => $"(conversation_id = @c{i} AND sender_id = @s{i} AND client_message_id = @k{i})")),
         [.. keys.SelectMany((k, i) => new (string, object?)[] { ("c" + i, ToDb(k.ConversationId)), ("s" + i, ToDb(k.Sender)), ("k" + i, k.ClientId) })]);

    /// <summary>An INSERT of these messages (bodies protected): one VALUES row per message.</summary>
    protected virtual (string Sql, (string, object?)[] Parameters) MessageInsert(IReadOnlyList<Message> rows)
    {
        var parameters = new List<(string, object?)>(rows.Count * 9);
        var values = new List<string>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var m = rows[i];
            values.Add($"(@c{i}, @s{i}, @k{i}, @r{i}, @u{i}, @m{i}, @b{i}, @a{i}, @d{i})");
            parameters.AddRange(
            [
                ("c" + i, ToDb(m.ConversationId)), ("s" + i, m.Seq), ("k" + i, (int)m.Kind), ("r" + i, (int)m.SenderRole),
                ("u" + i, m.SenderId is { } sender ? ToDb(sender) : null), ("m" + i, m.ClientMessageId), ("b" + i, FieldProtector.Protect(m.Text)),
                ("a" + i, ToDb(m.SentAt)), ("d" + i, m.Data),
            ]);
        }

        return ($"INSERT INTO messages ({MessageColumns}) VALUES {string.Join(", ", values)}", [.. parameters]);
    }

    /// <summary>
    /// One UPDATE for the batch's conversations: the new last seq, and the first response (and how
    /// long after it started waiting) where an agent answered for the first time.
    /// </summary>
    private async Task UpdateConversationsAsync(
        Statements statements, Dictionary<Guid, AppendState> conversations, CancellationToken cancellationToken)
    {
        var advanced = conversations
            .Where(c => c.Value.LastSeq != c.Value.FirstSeq)
            .Select(c => new ConversationAdvance(
                c.Key, c.Value.LastSeq, c.Value.LastSentAt, c.Value.FirstResponseAt,
                c.Value.FirstResponseAt is { } first ? (long)Math.Max(0, (first - c.Value.QueuedAt).TotalMilliseconds) : null));
        foreach (var chunk in advanced.Chunk(RowsPerStatement))
        {
            var (sql, parameters) = ConversationUpdate(chunk);
            await statements.For(sql, parameters).ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>What appending moves forward on one conversation.</summary>
    protected readonly record struct ConversationAdvance(
        Guid Id, long LastSeq, DateTimeOffset UpdatedAt, DateTimeOffset? FirstResponseAt, long? FirstResponseMs);

    /// <summary>The columns <see cref="AppendStateQuery"/> selects, in this order.</summary>
    protected const string AppendStateColumns =
        "id, last_seq, COALESCE(queued_at, created_at), first_response_at, tenant_id, consumer_id, status, assigned_agent_id";

    /// <summary>
    /// A SELECT of <see cref="AppendStateColumns"/> for these conversations, locked (where the
    /// database locks rows) in the order of their ids' text, so that concurrent batches on several
    /// nodes cannot deadlock.
    /// </summary>
    protected virtual (string Sql, (string, object?)[] Parameters) AppendStateQuery(IReadOnlyList<Guid> ids)
    {
        var (idList, parameters) = InList("c", ids.Select(id => ToDb(id)));
        return ($"SELECT {AppendStateColumns} FROM conversations WHERE id IN ({idList}) ORDER BY id{ForUpdate}", parameters);
    }

    /// <summary>An UPDATE that moves these conversations forward: CASE terms with parameters per conversation.</summary>
    protected virtual (string Sql, (string, object?)[] Parameters) ConversationUpdate(IReadOnlyList<ConversationAdvance> rows)
    {
        var parameters = new List<(string, object?)>();
        var seqCases = new List<string>();
        var atCases = new List<string>();
        var responseCases = new List<string>();
        var waitCases = new List<string>();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            parameters.AddRange([("i" + i, ToDb(row.Id)), ("s" + i, row.LastSeq), ("a" + i, ToDb(row.UpdatedAt))]);
            seqCases.Add($"WHEN @i{i} THEN @s{i}");
            atCases.Add($"WHEN @i{i} THEN @a{i}");
            if (row.FirstResponseAt is { } first)
            {
                parameters.AddRange([("f" + i, ToDb(first)), ("w" + i, row.FirstResponseMs)]);
                responseCases.Add($"WHEN @i{i} THEN @f{i}");
                waitCases.Add($"WHEN @i{i} THEN @w{i}");
            }
        }

        var response = responseCases.Count == 0
            ? ""
            : $", first_response_at = CASE id {string.Join(" ", responseCases)} ELSE first_response_at END" +
              $", first_response_ms = CASE id {string.Join(" ", waitCases)} ELSE first_response_ms END";
        return ($"UPDATE conversations SET last_seq = CASE id {string.Join(" ", seqCases)} END, " +
                $"updated_at = CASE id {string.Join(" ", atCases)} END{response} " +
                $"WHERE id IN ({string.Join(", ", rows.Select((_, i) => "@i" + i))})",
            [.. parameters]);
    }

    /// <summary>
    /// The commands of one transaction, by their SQL text: a statement that runs again with other
    /// values (on SQLite, once per row) is parsed and planned once instead of every time.
    /// </summary>
    private sealed class Statements(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

        /// <summary>The command for <paramref name="sql"/>, with these values (same names, same order as before).</summary>
        public DbCommand For(string sql, (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = Command(connection, transaction, sql, parameters);
                _commands.Add(sql, command);
                return command;
            }

            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }

            return command;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands.Values)
            {
                await command.DisposeAsync();
            }
        }
    }

    /// <summary>An IN list of parameters named <paramref name="prefix"/>0, 1, …</summary>
    private static (string List, (string, object?)[] Parameters) InList(string prefix, IEnumerable<object?> values)
    {
        var parameters = values.Select((value, i) => (prefix + i, value)).ToArray();
        return (string.Join(", ", parameters.Select(p => "@" + p.Item1)), parameters);
    }

    public Task<IReadOnlyList<Message>> GetMessagesAsync(
        Guid conversationId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        QueryListAsync(
            $"SELECT {MessageColumns} FROM messages WHERE conversation_id = @conversation AND seq > @after ORDER BY seq LIMIT @limit",
            ReadMessage,
            cancellationToken,
            ("conversation", ToDb(conversationId)), ("after", afterSeq), ("limit", limit));

    private Message ReadMessage(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            r.GetInt64(1),
            (MessageKind)r.GetInt32(2),
            (ParticipantRole)r.GetInt32(3),
            r.IsDBNull(4) ? null : ReadGuid(r, 4),
            NullableString(r, 5),
            FieldProtector.Unprotect(r.GetString(6)),
            ReadTime(r, 7),
            NullableString(r, 8));

    public async Task<Receipt> UpsertReceiptAsync(Receipt receipt, CancellationToken cancellationToken) =>
        (await QuerySingleAsync(
            "INSERT INTO receipts (conversation_id, participant_id, role, delivered_seq, read_seq, updated_at) " +
            "VALUES (@conversation, @participant, @role, @delivered, @read, @at) " +
            "ON CONFLICT (conversation_id, participant_id) DO UPDATE SET " +
            $"delivered_seq = {Greatest("receipts.delivered_seq", "excluded.delivered_seq")}, " +
            $"read_seq = {Greatest("receipts.read_seq", "excluded.read_seq")}, updated_at = excluded.updated_at " +
            "RETURNING conversation_id, participant_id, role, delivered_seq, read_seq, updated_at",
            ReadReceipt,
            cancellationToken,
            ("conversation", ToDb(receipt.ConversationId)),
            ("participant", ToDb(receipt.ParticipantId)),
            ("role", (int)receipt.Role),
            ("delivered", Math.Max(receipt.DeliveredSeq, receipt.ReadSeq)),
            ("read", receipt.ReadSeq),
            ("at", ToDb(receipt.UpdatedAt))))!;

    public Task<IReadOnlyList<Receipt>> GetReceiptsAsync(Guid conversationId, CancellationToken cancellationToken) =>
        QueryListAsync(
            "SELECT conversation_id, participant_id, role, delivered_seq, read_seq, updated_at FROM receipts " +
            "WHERE conversation_id = @conversation ORDER BY role, participant_id",
            ReadReceipt,
            cancellationToken,
            ("conversation", ToDb(conversationId)));

    private Receipt ReadReceipt(DbDataReader r) =>
        new(ReadGuid(r, 0), ReadGuid(r, 1), (ParticipantRole)r.GetInt32(2), r.GetInt64(3), r.GetInt64(4), ReadTime(r, 5));

    public Task CreateLoginStateAsync(LoginState state, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO login_states (state_hash, tenant_id, deployment_id, conversation_id, nonce, code_verifier, redirect_uri, created_at, expires_at, consumer_id) " +
            "VALUES (@hash, @tenant, @deployment, @conversation, @nonce, @verifier, @redirect, @at, @expires, @consumer)",
            cancellationToken,
            ("hash", state.StateHash),
            ("tenant", ToDb(state.TenantId)),
            ("deployment", ToDb(state.DeploymentId)),
            ("conversation", state.ConversationId is { } c ? ToDb(c) : null),
            ("nonce", state.Nonce),
            ("verifier", state.CodeVerifier),
            ("redirect", state.RedirectUri),
            ("at", ToDb(state.CreatedAt)),
            ("expires", ToDb(state.ExpiresAt)),
            ("consumer", state.ConsumerId is { } consumer ? ToDb(consumer) : null));

    public async Task<LoginState?> ConsumeLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // DELETE … RETURNING: the row is gone for everyone the moment one caller takes it.
        var state = await QuerySingleAsync(
            $"DELETE FROM login_states WHERE state_hash = @hash RETURNING {LoginStateColumns}",
            ReadLoginState,
            cancellationToken,
            ("hash", stateHash));
        return state is not null && state.ExpiresAt > now ? state : null;
    }

    public async Task<LoginState?> FindLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = await QuerySingleAsync(
            $"SELECT {LoginStateColumns} FROM login_states WHERE state_hash = @hash",
            ReadLoginState,
            cancellationToken,
            ("hash", stateHash));
        return state is not null && state.ExpiresAt > now ? state : null;
    }

    public Task<int> PurgeExpiredLoginStatesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM login_states WHERE expires_at <= @now", cancellationToken, ("now", ToDb(now)));

    private const string LoginStateColumns =
        "state_hash, tenant_id, deployment_id, conversation_id, nonce, code_verifier, redirect_uri, created_at, expires_at, consumer_id";

    private LoginState ReadLoginState(DbDataReader r) =>
        new(r.GetString(0), ReadGuid(r, 1), ReadGuid(r, 2), r.IsDBNull(3) ? null : ReadGuid(r, 3), r.GetString(4), r.GetString(5),
            r.GetString(6), ReadTime(r, 7), ReadTime(r, 8), r.IsDBNull(9) ? null : ReadGuid(r, 9));

    public Task SaveVerifiedIdentityAsync(VerifiedIdentity identity, CancellationToken cancellationToken) =>
        WriteAsync(connection => SaveVerifiedIdentityAsync(connection, null, identity, cancellationToken), cancellationToken);

    private async Task<int> SaveVerifiedIdentityAsync(DbConnection connection, DbTransaction? transaction, VerifiedIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO verified_identities (consumer_id, issuer, subject, verified_claims, context_variables, acr, authenticated_at, authenticated_until) " +
            "VALUES (@consumer, @iss, @sub, @claims, @context, @acr, @at, @until) " +
            "ON CONFLICT (consumer_id) DO UPDATE SET issuer = excluded.issuer, subject = excluded.subject, verified_claims = excluded.verified_claims, " +
            "context_variables = excluded.context_variables, acr = excluded.acr, authenticated_at = excluded.authenticated_at, authenticated_until = excluded.authenticated_until",
            ("consumer", ToDb(identity.ConsumerId)),
            ("iss", identity.Issuer),
            ("sub", identity.Subject),
            ("claims", FieldProtector.Protect(JsonSerializer.Serialize(identity.VerifiedClaims, DomainJsonContext.Default.IReadOnlyDictionaryStringString))),
            ("context", FieldProtector.Protect(JsonSerializer.Serialize(identity.ContextVariables, DomainJsonContext.Default.IReadOnlyDictionaryStringString))),
            ("acr", identity.Acr),
            ("at", ToDb(identity.AuthenticatedAt)),
            ("until", ToDb(identity.AuthenticatedUntil)));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<VerifiedIdentity?> GetVerifiedIdentityAsync(Guid consumerId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT consumer_id, issuer, subject, verified_claims, context_variables, acr, authenticated_at, authenticated_until FROM verified_identities WHERE consumer_id = @consumer",
            r => new VerifiedIdentity(
                ReadGuid(r, 0),
                r.GetString(1),
                r.GetString(2),
                JsonSerializer.Deserialize(FieldProtector.Unprotect(r.GetString(3)), DomainJsonContext.Default.DictionaryStringString) ?? [],
                JsonSerializer.Deserialize(FieldProtector.Unprotect(r.GetString(4)), DomainJsonContext.Default.DictionaryStringString) ?? [],
                NullableString(r, 5),
                ReadTime(r, 6),
                ReadTime(r, 7)),
            cancellationToken,
            ("consumer", ToDb(consumerId)));

    public Task SaveAuthenticationSettingsAsync(AuthenticationSettings settings, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO authentication_settings (id, tenant_id, name, body, updated_at) VALUES (@id, @tenant, @name, @body, @at) " +
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body, updated_at = excluded.updated_at",
            cancellationToken,
            ("id", ToDb(settings.Id)),
            ("tenant", ToDb(settings.TenantId)),
            ("name", settings.Name),
            ("body", JsonSerializer.Serialize(settings, DomainJsonContext.Default.AuthenticationSettings)),
            ("at", ToDb(settings.UpdatedAt)));

    public Task<AuthenticationSettings?> GetAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT body FROM authentication_settings WHERE id = @id",
            ReadAuthenticationSettings,
            cancellationToken,
            ("id", ToDb(settingsId)));

    public Task<IReadOnlyList<AuthenticationSettings>> ListAuthenticationSettingsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QueryListAsync(
            "SELECT body FROM authentication_settings WHERE tenant_id = @tenant ORDER BY name, id",
            ReadAuthenticationSettings,
            cancellationToken,
            ("tenant", ToDb(tenantId)));

    public async Task<bool> DeleteAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "DELETE FROM authentication_settings WHERE id = @id AND NOT EXISTS (SELECT 1 FROM deployments WHERE authentication_settings_id = @id)",
            cancellationToken,
            ("id", ToDb(settingsId))) > 0;

    private static AuthenticationSettings ReadAuthenticationSettings(DbDataReader r) =>
        JsonSerializer.Deserialize(r.GetString(0), DomainJsonContext.Default.AuthenticationSettings)!;

    private static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Builds a command with named parameters (written <c>@name</c> in the SQL).</summary>
    protected static DbCommand Command(
        DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        WriteAsync(async connection =>
        {
            await using var command = Command(connection, null, sql, parameters);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>One write outside a transaction, on a fresh connection that has this process's write turn.</summary>
    private Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await EnterWriteAsync(connection, cancellationToken);
            return await write(connection);
        }, cancellationToken);

    private Task<T?> QuerySingleAsync<T>(
        string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string, object?)[] parameters)
        where T : class =>
        RunAsync(async connection =>
        {
            await EnterWriteIfWritingAsync(connection, sql, cancellationToken);
            await using var command = Command(connection, null, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? read(reader) : null;
        }, cancellationToken);

    private Task<IReadOnlyList<T>> QueryListAsync<T>(
        string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        RunAsync(async connection =>
        {
            await EnterWriteIfWritingAsync(connection, sql, cancellationToken);
            await using var command = Command(connection, null, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(read(reader));
            }

            return (IReadOnlyList<T>)list;
        }, cancellationToken);

    /// <summary>Queries that change rows (<c>UPDATE … RETURNING</c>, <c>DELETE … RETURNING</c>) write too.</summary>
    private Task EnterWriteIfWritingAsync(DbConnection connection, string sql, CancellationToken cancellationToken) =>
        sql.StartsWith("SELECT", StringComparison.Ordinal) ? Task.CompletedTask : EnterWriteAsync(connection, cancellationToken);

    /// <summary>Runs an operation on a fresh connection, translating provider errors to storage errors.</summary>
    protected async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken);
            return await operation(connection);
        }
        catch (DbException exception) when (IsUniqueViolation(exception))
        {
            throw new DuplicateKeyException("A unique key is already taken.", exception);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && IsUnavailable(exception))
        {
            throw new StorageUnavailableException("The database is unavailable.", exception);
        }
    }
}
