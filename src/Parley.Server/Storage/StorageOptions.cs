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

    /// <summary>
    /// Group-commit writers per node. A conversation stays with one writer while it has messages in
    /// flight, so its messages are stored in order; others go to the first writer until a whole batch
    /// waits there (a moderate load commits few large batches), then to the least busy. Unset: 4 on
    /// PostgreSQL, where batches of different conversations commit side by side, and 1 on SQLite,
    /// which takes one writer at a time (docs/benchmarks.md).
    /// </summary>
    public int? Writers { get; set; }

    /// <summary>The number of writers in effect (the provider's default is filled in when unset).</summary>
    public int WriterCount => Writers ?? 1;
}
