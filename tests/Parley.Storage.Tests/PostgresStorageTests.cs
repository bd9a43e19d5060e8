using Parley.Storage.Postgres;
using Parley.Testing;

namespace Parley.Storage.Tests;

/// <summary>One throwaway PostgreSQL server for all PostgreSQL storage tests; a new database per test.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresStorageTests(PostgresServerFixture fixture) : StorageSuite
{
    private PostgresParleyStore? _store;

    protected override async Task<SqlParleyStore> CreateStoreAsync()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        _store = new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = connectionString });
        return _store;
    }

    public override async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_value_postgresql_cannot_hold_is_refused_as_such_and_quotes_nothing_of_it()
    {
        var store = await CreateStoreAsync();
        await store.MigrateAsync(CancellationToken.None);
        var tenant = new Tenants.Tenant(Guid.NewGuid(), "Acme", DateTimeOffset.UtcNow);
        await store.CreateTenantAsync(tenant, CancellationToken.None);
        var secret = "cart-of-ada-lovelace";
        var consumer = Consumers.Consumer.Anonymous(tenant.Id, DateTimeOffset.UtcNow);

        // Parley refuses control characters before storage; this is the net under that check.
        var refused = await Assert.ThrowsAsync<StorageValueRefusedException>(() =>
            store.CreateConsumerAsync(consumer with { Subject = secret + "\u0000" }, CancellationToken.None));

        Assert.StartsWith("22", refused.SqlState, StringComparison.Ordinal);
        Assert.Null(refused.InnerException);
        Assert.DoesNotContain(secret, refused.ToString(), StringComparison.Ordinal);
        Assert.Null(await store.GetConsumerAsync(consumer.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Nodes_migrating_at_once_apply_each_step_once()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        var nodes = Enumerable.Range(0, 4)
            .Select(_ => new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = connectionString }))
            .ToList();

        await Task.WhenAll(nodes.Select(n => n.MigrateAsync(CancellationToken.None)));

        Assert.All(await Task.WhenAll(nodes.Select(n => n.GetSchemaVersionAsync(CancellationToken.None))), v => Assert.Equal(PostgresParleyStore.LatestSchemaVersion, v));
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_unreachable_server_is_reported_as_unavailable()
    {
        var port = PostgresServer.FreePort();
        await using var store = new PostgresParleyStore(new PostgresStoreOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=none;Timeout=2",
        });

        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetTenantAsync(Guid.NewGuid(), CancellationToken.None));
        Assert.False(await store.PingAsync(CancellationToken.None));
    }
}
