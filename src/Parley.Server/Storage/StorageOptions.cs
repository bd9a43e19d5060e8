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
    /// go through the same one, in order). Unset: 1 on SQLite, which takes one writer at a time, and 4
    /// on PostgreSQL, where batches of different conversations commit side by side.
    /// </summary>
    public int? Writers { get; set; }

    /// <summary>The number of writers in effect.</summary>
    public int WriterCount => Math.Max(1, Writers ?? (Provider == "postgres" ? 4 : 1));
}
