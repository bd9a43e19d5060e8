using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite;

/// <summary>
/// SQLite storage: one file in WAL mode with <c>synchronous=FULL</c>, so a committed transaction
/// survives a process kill and a power loss. Writers serialise on SQLite's write lock
/// (<c>BEGIN IMMEDIATE</c>); readers never block them.
/// </summary>
public sealed class SqliteParleyStore : SqlParleyStore
{
    /// <summary>One gate per database file in this process: SQLite takes one writer at a time.</summary>
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);
    private static readonly ConditionalWeakTable<DbConnection, object> Holders = new();

    /// <summary>Native connections (kept open by the pool) whose per-connection pragmas are set.</summary>
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Configured = new();
    private readonly string _connectionString;
    private readonly SqliteStoreOptions _options;
    private readonly SemaphoreSlim _gate;

    /// <summary>
    /// The SQLite bundled with Parley (SQLitePCLRaw's e_sqlite3), on every machine. Its 2021 build
    /// slept whole seconds wherever SQLite waited, so Parley preferred the system's library; the
    /// current one sleeps with <c>nanosleep</c>, and measured no slower (docs/benchmarks.md).
    /// </summary>
    static SqliteParleyStore() => SQLitePCL.Batteries_V2.Init();

    public SqliteParleyStore(SqliteStoreOptions options)
    {
        _options = options;
        var fullPath = System.IO.Path.GetFullPath(options.Path);
        _gate = Gates.GetOrAdd(fullPath, _ => new SemaphoreSlim(1, 1));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY until the command timeout; 0 would mean forever.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    protected override IReadOnlyList<SqlMigration> Migrations => SqliteMigrations.All;

    private string MaxPagesPragma =>
        _options.MaxPageCount is { } pages ? string.Create(CultureInfo.InvariantCulture, $" PRAGMA max_page_count={pages};") : "";

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Configured.TryGetValue(connection.Handle!, out _))
            {
                // A pooled native connection keeps its pragmas: setting them again would parse and
                // run five statements on every operation.
                return connection;
            }

            await using var pragmas = connection.CreateCommand();
            pragmas.CommandText = string.Create(
                CultureInfo.InvariantCulture,
                $"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={(int)_options.BusyTimeout.TotalMilliseconds};{MaxPagesPragma}");
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            Configured.AddOrUpdate(connection.Handle!, Configured);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await EnterWriteAsync(connection, cancellationToken);

        // Serializable is not deferred: BEGIN IMMEDIATE takes the write lock up front, so the busy timeout applies
        // instead of a lock-upgrade deadlock failing at the first write.
        return await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
    }

    /// <summary>
    /// Makes this process's writers take turns, in memory, until the connection closes: they then
    /// never meet SQLite's busy handler, which (in this SQLite build) sleeps whole seconds. A
    /// connection that already has the turn keeps it.
    /// </summary>
    protected override async Task EnterWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (Holders.TryGetValue(connection, out _))
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        Holders.Add(connection, _gate);
        connection.StateChange += Release;

        void Release(object? sender, StateChangeEventArgs change)
        {
            if (change.CurrentState == ConnectionState.Closed)
            {
                connection.StateChange -= Release;
                Holders.Remove(connection);
                _gate.Release();
            }
        }
    }

    protected override string? MigrationLockSql => null;

    protected override string SchemaMigrationsExistsSql =>
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";

    /// <summary>
    /// One row per statement: statements are in process, and Microsoft.Data.Sqlite binds named
    /// parameters by name one at a time, so a many-row statement costs more than many small ones
    /// (measured: 8,929 msg/s with 16 rows, 10,709 with 1; docs/benchmarks.md).
    /// </summary>
    protected override int RowsPerStatement => 1;

    protected override string ForUpdate => "";

    protected override string ForUpdateSkipLocked => "";

    protected override string LockConversationSql => "SELECT last_seq FROM conversations WHERE id = @id";

    protected override string JsonMember(string column, string keyParameter) => $"json_extract({column}, '$.\"' || {keyParameter} || '\"')";

    protected override string Greatest(string left, string right) => $"max({left}, {right})";

    protected override object ToDb(Guid value) => value.ToString("D");

    protected override Guid ReadGuid(DbDataReader reader, int ordinal) => Guid.Parse(reader.GetString(ordinal));

    // Microseconds since the Unix epoch: the same precision PostgreSQL's timestamptz keeps.
    protected override object ToDb(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (reader.GetInt64(ordinal) * 10), TimeSpan.Zero);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    protected override bool IsUnavailable(Exception exception) => exception switch
    {
        // BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN: the database cannot take the operation now.
        SqliteException { SqliteErrorCode: 5 or 6 or 8 or 10 or 13 or 14 } => true,
        IOException or UnauthorizedAccessException => true,
        _ => false,
    };
}
