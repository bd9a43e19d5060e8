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

    /// <summary>
    /// Encrypts message bodies, verified claims and context variables at rest (Data Protection keys
    /// under <c>Parley:DataProtection:KeysPath</c>: back them up with the database). Rows written
    /// before it was turned on stay readable.
    /// </summary>
    public bool EncryptAtRest { get; set; }

    /// <summary>Most messages committed in one transaction by the group-commit writer.</summary>
    public int MaxBatchSize { get; set; } = 256;
}
