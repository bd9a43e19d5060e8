using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Parley.Consumers;
using Parley.Security;
using Parley.Storage;

namespace Parley.Server.Tests;

/// <summary>
/// Parley's services on a plain host: no Kestrel, no HTTP, no socket. Its own SQLite file and the
/// demo brand, and a clock of the test's choosing; the use cases are called as the endpoints and
/// the frame dispatcher call them.
/// </summary>
public sealed class UseCaseHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _directory;

    private UseCaseHost(IHost host, string directory)
    {
        _host = host;
        _directory = directory;
    }

    public SqlParleyStore Store => Get<SqlParleyStore>();

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<UseCaseHost> StartAsync(TimeProvider? time = null, params string[] settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-usecase-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = "Development",
            Args =
            [
                $"--Parley:Storage:Sqlite:Path={Path.Combine(directory, "parley.db")}",
                "--Parley:Demo:Enabled=true",
                "--Parley:PublicUrl=http://parley.test",
                "--Logging:LogLevel:Default=Warning",
                .. Parley.Testing.GenerousLimits.Settings,
                .. settings,
            ],
        });
        builder.Services.AddParley(builder.Configuration);
        RoutingServiceCollectionExtensions.AddRouting(builder.Services); // what a web host brings: the authorization services ask for it
        if (time is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(time));
        }

        var host = builder.Build();
        await host.StartAsync();
        return new UseCaseHost(host, directory);
    }

    /// <summary>A new anonymous visitor's device on a deployment, as <c>POST /api/v1/sessions</c> makes one.</summary>
    public async Task<ConsumerCaller> NewVisitorAsync(Guid deploymentId)
    {
        var deployment = (await Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var now = Get<TimeProvider>().GetUtcNow();
        var visitor = Consumer.Anonymous(deployment.TenantId, now);
        await Store.CreateConsumerAsync(visitor, CancellationToken.None);
        var (_, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        var expires = now.AddDays(1);
        await Store.CreateConsumerSessionAsync(new ConsumerSession(hash, visitor.Id, deployment.TenantId, deployment.Id, now, expires), CancellationToken.None);
        return new ConsumerCaller(visitor.Id, deployment.TenantId, deployment.Id, hash, expires);
    }

    /// <summary>A demo agent (or admin) as the agent API sees them once signed in.</summary>
    public async Task<AgentCaller> AgentAsync(string email = Parley.Demo.DemoOptions.AgentEmail)
    {
        var agent = (await Store.FindAgentByEmailAsync(email, CancellationToken.None))!;
        return new AgentCaller(agent.Id, agent.TenantId, agent.Role, "test-session", DateTimeOffset.MaxValue);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
