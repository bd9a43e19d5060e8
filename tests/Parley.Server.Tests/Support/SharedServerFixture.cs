namespace Parley.Server.Tests;

/// <summary>One server shared by a test class; each test makes its own visitors, so tests stay independent.</summary>
public sealed class SharedServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
