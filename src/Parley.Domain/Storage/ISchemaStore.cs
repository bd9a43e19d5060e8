namespace Parley.Storage;

/// <summary>The schema and the database's health.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface ISchemaStore
{
    /// <summary>Creates or upgrades the schema to the newest version. Safe to call on every start.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>The schema version currently applied.</summary>
    Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>True when the database answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}
