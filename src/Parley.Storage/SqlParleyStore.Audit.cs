namespace Parley.Storage;

public abstract partial class SqlParleyStore : IAuditStore
{
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

    public Task<int> DeleteAuditEventsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < @before ORDER BY at LIMIT @limit)",
            cancellationToken, ("before", ToDb(before)), ("limit", limit));
}
