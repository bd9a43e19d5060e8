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
    /// Group-commit writers, each for its share of the conversations (a conversation's messages always
    /// go through the same one, in order). One by default: more raise PostgreSQL's throughput under
    /// full load but commit smaller batches more often, which at a moderate rate costs latency
    /// (docs/benchmarks.md). SQLite takes one writer at a time, so more do not help it.
    /// </summary>
    public int Writers { get; set; } = 1;
}
