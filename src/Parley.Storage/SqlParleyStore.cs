namespace Parley.Storage;

/// <summary>
/// The SQL shared by the relational providers. A provider supplies its connections, its
/// migrations, how it stores ids and times, its locking and its error classification; the SQL
/// here is the subset both SQLite and PostgreSQL accept (ON CONFLICT, RETURNING, partial indexes).
/// </summary>
public abstract partial class SqlParleyStore
{
    /// <summary>Encryption at rest of message bodies and verified claims (none unless the host sets one).</summary>
    public IFieldProtector FieldProtector { get; set; } = NoFieldProtection.Instance;

    private const string ConversationColumns =
        "id, tenant_id, deployment_id, consumer_id, status, queue, assigned_agent_id, last_seq, attributes, created_at, updated_at, closed_at, authenticated, bot_case, " +
        "priority, routing_rule, queued_at, first_response_at, routed_until";

    protected const string MessageColumns =
        "conversation_id, seq, kind, sender_role, sender_id, client_message_id, body, sent_at, data";

    /// <summary>
    /// How live events reach the connections that watch them: within this process, unless the
    /// provider is one that several nodes share (PostgreSQL carries them across nodes).
    /// </summary>
    public virtual ILiveFanout CreateLiveFanout(ILoggerFactory loggers) => new InProcessFanout();

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

    /// <summary>The SQLSTATE of an error about a value the database cannot hold, or null for any other error.</summary>
    protected virtual string? RefusedValue(DbException exception) => null;


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
        catch (DbException exception) when (RefusedValue(exception) is { } sqlState)
        {
            // Not wrapped: the provider's message and detail may quote the value.
            throw new StorageValueRefusedException(sqlState);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && IsUnavailable(exception))
        {
            throw new StorageUnavailableException("The database is unavailable.", exception);
        }
    }
}
