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

    /// <summary>
    /// Which SQLite library to use: <c>auto</c> (default) uses the operating system's
    /// <c>libsqlite3.so.0</c> when it has one and the library bundled with Parley otherwise;
    /// <c>bundled</c> always uses the bundled one. The bundled build has no <c>usleep</c>, so every
    /// wait inside SQLite (a reader retrying while a commit updates the WAL index, the busy handler)
    /// sleeps a whole second; the system's waits microseconds. Read once per process, by the first store.
    /// </summary>
    public string Library { get; set; } = "auto";
}
