using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Npgsql;
using Parley.Conversations;

namespace Parley.Storage.Postgres;

/// <summary>
/// PostgreSQL storage. Several Parley nodes may share one database: sequence numbers are taken
/// under a row lock on the conversation, and migrations under an advisory lock.
/// </summary>
public sealed class PostgresParleyStore : SqlParleyStore, IAsyncDisposable
{
    private const long MigrationLockKey = 0x5061_726C_6579; // "Parley"

    /// <summary>The schema version this build migrates to.</summary>
    public static int LatestSchemaVersion => PostgresMigrations.All[^1].Version;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _connectionString;

    public PostgresParleyStore(PostgresStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException(
                "Parley:Storage:Postgres:ConnectionString is required when Parley:Storage:Provider is 'postgres'.",
                nameof(options));
        }

        _connectionString = options.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(options.ConnectionString);
    }

    /// <summary>Nodes that share this database share live events through LISTEN/NOTIFY.</summary>
    public override ILiveFanout CreateLiveFanout(ILoggerFactory loggers) =>
        new PostgresFanout(_connectionString, this, loggers.CreateLogger<PostgresFanout>());

    protected override IReadOnlyList<SqlMigration> Migrations => PostgresMigrations.All;

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

    protected override string? MigrationLockSql => $"SELECT pg_advisory_xact_lock({MigrationLockKey})";

    protected override string SchemaMigrationsExistsSql =>
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'";

    protected override int RowsPerStatement => 500;

    /// <summary>
    /// The keys as three arrays joined with the unique index: one short statement, planned once,
    /// whatever the number of keys (an OR of terms with three parameters each took half the batch's time).
    /// </summary>
    protected override (string Sql, (string, object?)[] Parameters) ClientIdLookup(
        IReadOnlyList<(Guid ConversationId, Guid Sender, string ClientId)> keys) =>
        ($"SELECT {MessageColumns} FROM unnest(@c, @s, @k) AS k (c, s, id) " +
            "JOIN messages ON conversation_id = k.c AND sender_id = k.s AND client_message_id = k.id WHERE client_message_id IS NOT NULL",
         [("c", keys.Select(k => k.ConversationId).ToArray()), ("s", keys.Select(k => k.Sender).ToArray()), ("k", keys.Select(k => k.ClientId).ToArray())]);

    /// <summary>The rows as one array per column: nine parameters, not nine per row.</summary>
    protected override (string Sql, (string, object?)[] Parameters) MessageInsert(IReadOnlyList<Message> rows) =>
        ($"INSERT INTO messages ({MessageColumns}) SELECT * FROM unnest(@c, @s, @k, @r, @u, @m, @b, @a, @d)",
        [
            ("c", rows.Select(m => m.ConversationId).ToArray()),
            ("s", rows.Select(m => m.Seq).ToArray()),
            ("k", rows.Select(m => (int)m.Kind).ToArray()),
            ("r", rows.Select(m => (int)m.SenderRole).ToArray()),
            ("u", rows.Select(m => m.SenderId).ToArray()),
            ("m", rows.Select(m => m.ClientMessageId).ToArray()),
            ("b", rows.Select(m => FieldProtector.Protect(m.Text)).ToArray()),
            ("a", rows.Select(m => m.SentAt.ToUniversalTime()).ToArray()),
            ("d", rows.Select(m => m.Data).ToArray()),
        ]);

    protected override (string Sql, (string, object?)[] Parameters) AppendStateQuery(IReadOnlyList<Guid> ids) =>
        ($"SELECT {AppendStateColumns} FROM conversations WHERE id = ANY(@c) ORDER BY id FOR UPDATE", [("c", ids.ToArray())]);

    protected override (string Sql, (string, object?)[] Parameters) ConversationUpdate(IReadOnlyList<ConversationAdvance> rows) =>
        ("UPDATE conversations SET last_seq = u.seq, updated_at = u.at, " +
            "first_response_at = COALESCE(u.first, conversations.first_response_at), " +
            "first_response_ms = COALESCE(u.wait, conversations.first_response_ms) " +
            "FROM unnest(@i, @s, @a, @f, @w) AS u (id, seq, at, first, wait) WHERE conversations.id = u.id",
        [
            ("i", rows.Select(r => r.Id).ToArray()),
            ("s", rows.Select(r => r.LastSeq).ToArray()),
            ("a", rows.Select(r => r.UpdatedAt.ToUniversalTime()).ToArray()),
            ("f", rows.Select(r => r.FirstResponseAt?.ToUniversalTime()).ToArray()),
            ("w", rows.Select(r => r.FirstResponseMs).ToArray()),
        ]);

    protected override string ForUpdate => " FOR UPDATE";

    protected override string ForUpdateSkipLocked => " FOR UPDATE SKIP LOCKED";

    protected override string LockConversationSql => "SELECT last_seq FROM conversations WHERE id = @id FOR UPDATE";

    protected override string JsonMember(string column, string keyParameter) => $"({column}::jsonb ->> {keyParameter})";

    protected override string Greatest(string left, string right) => $"GREATEST({left}, {right})";

    protected override object ToDb(Guid value) => value;

    protected override Guid ReadGuid(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    protected override object ToDb(DateTimeOffset value) => value.ToUniversalTime();

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>Class 22, data exception: a NUL in text or jsonb (22P05, 22021), a value out of range, …</summary>
    protected override string? RefusedValue(DbException exception) =>
        exception is PostgresException { SqlState: var state } && state.StartsWith("22", StringComparison.Ordinal) ? state : null;

    protected override bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) // connection
            || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)                        // disk full, out of memory, too many connections
            || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)                       // shutting down, cannot connect now
            || postgres.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction
            || postgres.SqlState == PostgresErrorCodes.SerializationFailure
            || postgres.SqlState == PostgresErrorCodes.DeadlockDetected,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
