using Xunit;

namespace Parley.Testing;

/// <summary>An xunit fixture owning one <see cref="PostgresServer"/> for a test class or collection.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
