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
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.Configure<ParleyOptions>(builder.Configuration.GetSection(ParleyOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOperations();
        builder.Services.AddParleyStorage(builder.Configuration);
        builder.Services.AddDemo(builder.Configuration);
        builder.Services.AddCallerAuthentication();
        builder.Services.AddAgents();
        builder.Services.AddConversations();
        builder.Services.AddRouting(builder.Configuration);
        builder.Services.AddRealtime(builder.Configuration);
        builder.Services.AddAuthenticationSettings(builder.Configuration);
        builder.Services.AddMessenger();
        builder.Services.AddAbuseLimits(builder.Configuration);
        builder.Services.AddAudit();
        builder.Services.AddOptions<RetentionOptions>().Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .Validate(o => o.ClosedConversationDays is null or > 0, "Parley:Retention:ClosedConversationDays must be positive (or unset to keep everything).")
            .Validate(o => o.Interval >= TimeSpan.FromMinutes(1), "Parley:Retention:Interval must be at least a minute.")
            .ValidateOnStart();
        builder.Services.AddSingleton<Retention>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Retention>());
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseForwardedHeaders(); // client addresses from trusted proxies (Parley:Limits:KnownProxies), for the per-address limits
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapOperations();
        app.MapRealtime();
        app.MapConsumerApi();
        app.MapAgentApi();
        app.MapAgentQueueApi();
        app.MapAuthenticationSettingsApi();
        app.MapVisitorLogin();
        app.MapMidChatLogin();
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
