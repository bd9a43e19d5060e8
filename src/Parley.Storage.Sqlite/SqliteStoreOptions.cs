namespace Parley.Storage.Sqlite;

public sealed class SqliteStoreOptions
{
    /// <summary>Path of the database file; its folder is created when missing.</summary>
    public string Path { get; set; } = "data/parley.db";

    /// <summary>How long a writer waits for another writer's lock before the write is refused.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest database, in pages (<c>PRAGMA max_page_count</c>; a page is 4 KB): past it writes are
    /// refused as on a full disk, with a retryable error, and succeed again once space is freed.
    /// Null: no cap beyond the file system's.
    /// </summary>
    public long? MaxPageCount { get; set; }
}
