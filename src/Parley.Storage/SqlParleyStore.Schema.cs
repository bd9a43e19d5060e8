namespace Parley.Storage;

public abstract partial class SqlParleyStore : ISchemaStore
{
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
}
