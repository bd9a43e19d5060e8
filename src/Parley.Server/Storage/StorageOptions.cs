using Parley.Storage.Postgres;
using Parley.Storage.Sqlite;

namespace Parley.Storage;

/// <summary>The <c>Parley:Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Parley:Storage";

    /// <summary><c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = "sqlite";

    public SqliteStoreOptions Sqlite { get; set; } = new();

    public PostgresStoreOptions Postgres { get; set; } = new();

    /// <summary>Most messages committed in one transaction by the group-commit writer.</summary>
    public int MaxBatchSize { get; set; } = 256;
}
