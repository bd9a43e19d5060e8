using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

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

    public PostgresParleyStore(PostgresStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException(
                "Parley:Storage:Postgres:ConnectionString is required when Parley:Storage:Provider is 'postgres'.",
                nameof(options));
        }

        _dataSource = NpgsqlDataSource.Create(options.ConnectionString);
    }

    protected override IReadOnlyList<SqlMigration> Migrations => PostgresMigrations.All;

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

    protected override string? MigrationLockSql => $"SELECT pg_advisory_xact_lock({MigrationLockKey})";

    protected override string SchemaMigrationsExistsSql =>
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'";

    protected override int RowsPerStatement => 500;

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
