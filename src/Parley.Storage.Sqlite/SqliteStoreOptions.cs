namespace Parley.Storage.Sqlite;

public sealed class SqliteStoreOptions
{
    /// <summary>Path of the database file; its folder is created when missing.</summary>
    public string Path { get; set; } = "data/parley.db";

    /// <summary>How long a writer waits for another writer's lock before the write is refused.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
