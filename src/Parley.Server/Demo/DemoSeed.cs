using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Agents;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Demo;

/// <summary>The <c>Parley:Demo</c> section. On in the default run configuration, off in production.</summary>
public sealed class DemoOptions
{
    public const string Section = "Parley:Demo";

    public static readonly Guid TenantId = Guid.Parse("7a3c0000-0000-4000-8000-000000000001");
    public static readonly Guid DeploymentId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d1");
    public const string AgentEmail = "agent@demo.parley.test";
    public const string AdminEmail = "admin@demo.parley.test";

    public bool Enabled { get; set; }

    /// <summary>Password of the demo agent and admin. Demo only: never enable the demo on a public server.</summary>
    public string Password { get; set; } = "parley-demo";

    /// <summary>Origins the demo deployment accepts.</summary>
    public List<string> AllowedOrigins { get; set; } = ["http://localhost:5080", "http://127.0.0.1:5080"];
}

/// <summary>Creates the demo brand (tenant, deployment, an agent and an admin) when missing.</summary>
internal sealed partial class DemoSeed(
    IParleyStore store,
    IPasswordHasher<Agent> hasher,
    TimeProvider time,
    IOptions<DemoOptions> options,
    ILogger<DemoSeed> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var demo = options.Value;
        if (!demo.Enabled || await store.GetTenantAsync(DemoOptions.TenantId, cancellationToken) is not null)
        {
            return;
        }

        var now = time.GetUtcNow();
        await store.CreateTenantAsync(new Tenant(DemoOptions.TenantId, "Demo Brand", now), cancellationToken);
        await store.CreateDeploymentAsync(
            new Deployment(DemoOptions.DeploymentId, DemoOptions.TenantId, "Demo website", demo.AllowedOrigins, now), cancellationToken);
        foreach (var (email, name, role) in new[]
                 {
                     (DemoOptions.AgentEmail, "Demo Agent", AgentRole.Agent),
                     (DemoOptions.AdminEmail, "Demo Admin", AgentRole.Admin),
                 })
        {
            var agent = new Agent(Guid.NewGuid(), DemoOptions.TenantId, email, name, "", role, 5, now);
            await store.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, demo.Password) }, cancellationToken);
        }

        LogSeeded(logger, DemoOptions.DeploymentId);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Demo brand created (deployment {DeploymentId}); its accounts use the demo password. Disable Parley:Demo in production.")]
    private static partial void LogSeeded(ILogger logger, Guid deploymentId);
}

public static class DemoExtensions
{
    public static IServiceCollection AddDemo(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<DemoOptions>(configuration.GetSection(DemoOptions.Section));
        services.AddHostedService<DemoSeed>();
        return services;
    }
}
