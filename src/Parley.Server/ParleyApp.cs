using Parley.Agents;
using Parley.Audit;
using Parley.Authentication;
using Parley.Bots;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Demo;
using Parley.Messenger;
using Parley.Operations;
using Parley.Realtime;
using Parley.Routing;
using Parley.Security;
using Parley.Storage;
using Parley.Workspace;

namespace Parley;

/// <summary>Builds the Parley web host. Tests call this too, with their own configuration.</summary>
public static class ParleyApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot(args) });
        builder.Services.AddParley(builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseMetricsEndpoint(); // before the forwarded headers: a proxied request is never a local one
        app.UseForwardedHeaders(); // client addresses from trusted proxies (Parley:Limits:KnownProxies), for the per-address limits
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseRealtime();
        app.MapParley();
        return app;
    }

    /// <summary>
    /// Where appsettings.json is read from: the working directory when it has one (<c>dotnet run</c>,
    /// a checkout), else the folder of the binary (a published build started from anywhere, as
    /// systemd or a container starts it). <c>--contentRoot</c> still decides when given.
    /// </summary>
    public static string? ContentRoot(string[] args) =>
        args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase)) ? null
        : File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? Directory.GetCurrentDirectory()
        : AppContext.BaseDirectory;

    /// <summary>
    /// Every service of Parley: storage, the use cases, the background work and the web surfaces'
    /// adapters. Without a web host (as the use-case tests run it) the use cases work all the same.
    /// </summary>
    public static IServiceCollection AddParley(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ParleyOptions>(configuration.GetSection(ParleyOptions.Section));
        services.AddSingleton(TimeProvider.System);
        services.AddOperations();
        services.AddTelemetry(configuration);
        services.AddParleyStorage(configuration);
        services.AddDemo(configuration);
        services.AddCallerAuthentication();
        services.AddAgents();
        services.AddConversations();
        services.AddRouting(configuration);
        services.AddRealtime(configuration);
        services.AddAuthenticationSettings(configuration);
        services.AddMessenger();
        services.AddAbuseLimits(configuration);
        services.AddAudit();
        services.AddRetention(configuration);
        return services;
    }

    /// <summary>Every endpoint, one route group per feature (docs/api.md, docs/protocol.md).</summary>
    public static IEndpointRouteBuilder MapParley(this IEndpointRouteBuilder app)
    {
        app.MapOperations();
        app.MapRealtime();
        app.MapConsumerApi();
        app.MapAgentApi();
        app.MapAgentQueueApi();
        app.MapAuthenticationSettingsApi();
        app.MapAuthenticationKeysApi();
        app.MapVisitorLogin();
        app.MapMidChatLogin();
        app.MapBackChannelLogout();
        app.MapBotApi();
        app.MapRoutingApi();
        app.MapMessenger();
        app.MapDeploymentsApi();
        app.MapWorkspace();
        app.MapAuditApi();
        app.MapDemoBrand();
        return app;
    }
}
