namespace Parley.Storage;

public abstract partial class SqlParleyStore : IConsumerStore
{
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

    public Task<Consumer?> FindAuthenticatedConsumerAsync(Guid tenantId, string issuer, string subject, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT id, tenant_id, issuer, subject, created_at FROM consumers WHERE tenant_id = @tenant AND issuer = @iss AND subject = @sub",
            ReadConsumer,
            cancellationToken,
            ("tenant", ToDb(tenantId)), ("iss", issuer), ("sub", subject));

    public Task<int> DeleteConsumerSessionsAsync(Guid consumerId, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM consumer_sessions WHERE consumer_id = @consumer", cancellationToken, ("consumer", ToDb(consumerId)));

    public Task SaveVerifiedIdentityAsync(VerifiedIdentity identity, CancellationToken cancellationToken) =>
        WriteAsync(connection => SaveVerifiedIdentityAsync(connection, null, identity, cancellationToken), cancellationToken);

    private async Task<int> SaveVerifiedIdentityAsync(DbConnection connection, DbTransaction? transaction, VerifiedIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO verified_identities (consumer_id, issuer, subject, verified_claims, context_variables, acr, authenticated_at, authenticated_until, auth_time, amr) " +
            "VALUES (@consumer, @iss, @sub, @claims, @context, @acr, @at, @until, @authTime, @amr) " +
            "ON CONFLICT (consumer_id) DO UPDATE SET issuer = excluded.issuer, subject = excluded.subject, verified_claims = excluded.verified_claims, " +
            "context_variables = excluded.context_variables, acr = excluded.acr, authenticated_at = excluded.authenticated_at, authenticated_until = excluded.authenticated_until, " +
            "auth_time = excluded.auth_time, amr = excluded.amr",
            ("consumer", ToDb(identity.ConsumerId)),
            ("iss", identity.Issuer),
            ("sub", identity.Subject),
            ("claims", FieldProtector.Protect(JsonSerializer.Serialize(identity.VerifiedClaims, DomainJsonContext.Default.IReadOnlyDictionaryStringString))),
            ("context", FieldProtector.Protect(JsonSerializer.Serialize(identity.ContextVariables, DomainJsonContext.Default.IReadOnlyDictionaryStringString))),
            ("acr", identity.Acr),
            ("at", ToDb(identity.AuthenticatedAt)),
            ("until", ToDb(identity.AuthenticatedUntil)),
            ("authTime", identity.AuthTime is { } authTime ? ToDb(authTime) : null),
            ("amr", identity.Amr));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<VerifiedIdentity?> GetVerifiedIdentityAsync(Guid consumerId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT consumer_id, issuer, subject, verified_claims, context_variables, acr, authenticated_at, authenticated_until, auth_time, amr FROM verified_identities WHERE consumer_id = @consumer",
            r => new VerifiedIdentity(
                ReadGuid(r, 0),
                r.GetString(1),
                r.GetString(2),
                JsonSerializer.Deserialize(FieldProtector.Unprotect(r.GetString(3)), DomainJsonContext.Default.DictionaryStringString) ?? [],
                JsonSerializer.Deserialize(FieldProtector.Unprotect(r.GetString(4)), DomainJsonContext.Default.DictionaryStringString) ?? [],
                NullableString(r, 5),
                ReadTime(r, 6),
                ReadTime(r, 7),
                r.IsDBNull(8) ? null : ReadTime(r, 8),
                NullableString(r, 9)),
            cancellationToken,
            ("consumer", ToDb(consumerId)));
}
