using Microsoft.Data.Sqlite;
using Parley.Storage.Sqlite;

namespace Parley.Storage.Tests;

public sealed class SqliteStorageTests : StorageSuite
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-sqlite-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "parley.db");

    protected override Task<SqlParleyStore> CreateStoreAsync() =>
        Task.FromResult<SqlParleyStore>(new SqliteParleyStore(new SqliteStoreOptions { Path = DatabasePath }));

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>One value read from the test's database on a connection of its own.</summary>
    private async Task<string?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string?)await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task The_database_runs_in_wal_mode() => Assert.Equal("wal", await ScalarAsync("PRAGMA journal_mode"));

    [Fact]
    public async Task The_bundled_SQLite_is_used_and_it_is_current()
    {
        // 3.53 sleeps with nanosleep where SQLite waits; the 2021 bundle slept whole seconds.
        var version = Version.Parse((await ScalarAsync("SELECT sqlite_version()"))!);
        Assert.True(version >= new Version(3, 53), $"SQLite {version}");
        Assert.Equal("e_sqlite3", SQLitePCL.raw.GetNativeLibraryName());
    }

    [Fact]
    public async Task A_write_blocked_by_another_writer_is_refused_as_unavailable()
    {
        var store = new SqliteParleyStore(new SqliteStoreOptions { Path = DatabasePath, BusyTimeout = TimeSpan.FromMilliseconds(200) });
        await using var blocker = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);

        await Assert.ThrowsAsync<StorageUnavailableException>(() =>
            store.CreateTenantAsync(new Tenants.Tenant(Guid.NewGuid(), "Blocked", DateTimeOffset.UtcNow), CancellationToken.None));
    }
}
