using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Agents;
using Parley.Authentication;
using Parley.Bots;
using Parley.Routing;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Demo;

/// <summary>The <c>Parley:Demo</c> section. On in the default run configuration, off in production.</summary>
public sealed class DemoOptions
{
    public const string Section = "Parley:Demo";

    public static readonly Guid TenantId = Guid.Parse("7a3c0000-0000-4000-8000-000000000001");

    /// <summary>A deployment without login (anonymous visitors only).</summary>
    public static readonly Guid DeploymentId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d1");

    /// <summary>The demo bank's pages: the page's token (implicit) before the chat, an id_token login link mid-chat.</summary>
    public static readonly Guid ImplicitDeploymentId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d2");

    /// <summary>The demo bank's help page: mid-chat login with the authorization code flow (discovery, PKCE, client secret).</summary>
    public static readonly Guid CodeFlowDeploymentId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d3");

    /// <summary>The demo bank's page with the messenger in a separate browser window (mid-chat login by redirect).</summary>
    public static readonly Guid WindowDeploymentId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000d4");

    public static readonly Guid ImplicitSettingsId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000a1");
    public static readonly Guid CodeFlowSettingsId = Guid.Parse("7a3c0000-0000-4000-8000-0000000000a2");
    public const string AgentEmail = "agent@demo.parley.test";
    public const string AdminEmail = "admin@demo.parley.test";

    public bool Enabled { get; set; }

    /// <summary>Password of the demo agent and admin, and of the demo brand's users. Demo only: never enable the demo on a public server.</summary>
    public string Password { get; set; } = "parley-demo";

    /// <summary>Origins the demo deployments accept.</summary>
    public List<string> AllowedOrigins { get; set; } = ["http://localhost:5080", "http://127.0.0.1:5080"];

    /// <summary>
    /// The demo brand's base URL (its issuer). Unset: <c>Parley:PublicUrl</c> or the first address
    /// in <c>Urls</c>, followed by <c>/demo-brand</c>.
    /// </summary>
    public string BrandUrl { get; set; } = "";

    /// <summary>How long the demo brand's tokens (page token, id_tokens) are valid.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The demo settings' session TTL after a login; 0: the session ends when the token expires.</summary>
    public int SessionTtlMinutes { get; set; } = 30;

    /// <summary>The demo bank's routing: VIPs (Ada; a verified context variable) first, then logged-in customers, then everyone.</summary>
    public static RoutingConfiguration Routing { get; } = new()
    {
        Queues = [new("vip", "VIP customers"), new("authenticated", "Logged-in customers"), new("general", "General")],
        DefaultQueue = "general",
        Rules =
        [
            new RoutingRule("VIP", "authenticated and context.msdyn_isvip == \"true\"", "vip", 100),
            new RoutingRule("Logged in", "authenticated", "authenticated", 10),
        ],
    };

    /// <summary>The demo bank's bot: a greeting and three cases, one of which requires a login.</summary>
    public static BotSettings Bot { get; } = new()
    {
        Greeting = "Hi! I am the Demo Bank bot. Ask me for a statement copy, our opening hours, or an agent.",
        Cases =
        [
            new BotCase("Statement copy", ["statement", "statement copy", "bank statement"],
                "Your statement copy is on its way to the address we have on file.", RequiresAuthentication: true),
            new BotCase("Opening hours", ["hours", "open", "opening hours"], "We are open 9:00 to 17:00, Monday to Friday."),
            new BotCase("Talk to an agent", ["agent", "human", "person"], "Connecting you to an agent.", HandOver: true),
        ],
    };
}

/// <summary>
/// Creates what is missing of the demo brand: tenant, deployments, an agent and an admin, and
/// (re)writes its authentication settings and bot, so they follow the configured address.
/// </summary>
internal sealed partial class DemoSeed(
    ITenantStore tenantStore, IDeploymentStore deploymentStore, IAgentStore agentStore, IRoutingStore routingStore, IAuthenticationSettingsStore settingsStore,
    IPasswordHasher<Agent> hasher,
    AuthenticationSettingsResolver resolver,
    TimeProvider time,
    IOptions<DemoOptions> options,
    ILogger<DemoSeed> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var demo = options.Value;
        if (!demo.Enabled)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (await tenantStore.GetTenantAsync(DemoOptions.TenantId, cancellationToken) is null)
        {
            await tenantStore.CreateTenantAsync(new Tenant(DemoOptions.TenantId, "Demo Brand", now), cancellationToken);
            await deploymentStore.CreateDeploymentAsync(
                new Deployment(DemoOptions.DeploymentId, DemoOptions.TenantId, "Demo website (no login)", demo.AllowedOrigins, now), cancellationToken);
            foreach (var (email, name, role) in new[]
                     {
                         (DemoOptions.AgentEmail, "Demo Agent", AgentRole.Agent),
                         (DemoOptions.AdminEmail, "Demo Admin", AgentRole.Admin),
                     })
            {
                var agent = new Agent(Guid.NewGuid(), DemoOptions.TenantId, email, name, "", role, 5, now);
                await agentStore.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, demo.Password) }, cancellationToken);
            }

            await routingStore.SaveRoutingConfigurationAsync(DemoOptions.TenantId, DemoOptions.Routing, now, cancellationToken);
            LogSeeded(logger, DemoOptions.DeploymentId);
        }
        else if (await routingStore.GetRoutingConfigurationAsync(DemoOptions.TenantId, cancellationToken) is null)
        {
            // A demo database from before routing existed.
            await routingStore.SaveRoutingConfigurationAsync(DemoOptions.TenantId, DemoOptions.Routing, now, cancellationToken);
        }

        var brand = demo.BrandUrl;
        var origins = demo.AllowedOrigins.Append(new Uri(brand).GetLeftPart(UriPartial.Authority)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var implicitSettings = new AuthenticationSettings
        {
            Id = DemoOptions.ImplicitSettingsId, TenantId = DemoOptions.TenantId, Name = "Demo Bank: page token (implicit)",
            Flow = AuthenticationFlow.Implicit, Issuer = brand, ClientId = DemoBrand.ClientId, KeysUrl = brand + "/jwks",
            AuthorizationEndpoint = brand + "/authorize", JsClientFunction = "getAuthenticationToken",
            SessionTtlMinutes = demo.SessionTtlMinutes > 0 ? demo.SessionTtlMinutes : null,
            AllowedAlgorithms = ["RS256"], CreatedAt = now, UpdatedAt = now,
        };
        var codeSettings = implicitSettings with
        {
            Id = DemoOptions.CodeFlowSettingsId, Name = "Demo Bank: authorization code flow", Flow = AuthenticationFlow.Code,
            KeysUrl = null, AuthorizationEndpoint = null, DiscoveryUrl = brand + "/.well-known/openid-configuration",
            JsClientFunction = "getAuthenticationCode",
            ProtectedClientSecret = resolver.Protect(DemoBrand.ClientSecret),
        };
        await settingsStore.SaveAuthenticationSettingsAsync(implicitSettings, cancellationToken);
        await settingsStore.SaveAuthenticationSettingsAsync(codeSettings, cancellationToken);
        foreach (var (deploymentId, name, settings, messenger) in new[]
                 {
                     (DemoOptions.ImplicitDeploymentId, "Demo Bank website", implicitSettings, new MessengerSettings { Title = "Demo Bank chat" }),
                     (DemoOptions.CodeFlowDeploymentId, "Demo Bank help (code flow)", codeSettings, new MessengerSettings { Title = "Demo Bank help" }),
                     (DemoOptions.WindowDeploymentId, "Demo Bank (separate window)", implicitSettings,
                         new MessengerSettings { Title = "Demo Bank chat", WindowMode = WindowMode.Window }),
                 })
        {
            if (await deploymentStore.GetDeploymentAsync(deploymentId, cancellationToken) is null)
            {
                await deploymentStore.CreateDeploymentAsync(new Deployment(deploymentId, DemoOptions.TenantId, name, origins, now, settings.Id), cancellationToken);
            }

            await deploymentStore.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, cancellationToken);
            await deploymentStore.SetDeploymentBotAsync(deploymentId, DemoOptions.Bot, cancellationToken);
            await deploymentStore.SetDeploymentMessengerAsync(deploymentId, messenger, cancellationToken);
        }
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
        // On by default in Development only (appsettings.Development.json). Asked for elsewhere, its
        // own login flows need https: refuse to start rather than run a demo whose logins all fail.
        services.AddOptions<DemoOptions>()
            .Validate<IHostEnvironment>(
                (demo, environment) => !demo.Enabled || environment.IsDevelopment() || demo.BrandUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase),
                "Parley:Demo:Enabled is on outside Development, where the demo brand's logins need https: set Parley:PublicUrl to the https address "
                + "browsers use, run in Development (ASPNETCORE_ENVIRONMENT=Development), or turn the demo off (Parley__Demo__Enabled=false). "
                + "Never run the demo on a public server: its accounts use a published password.")
            .ValidateOnStart();
        services.PostConfigure<DemoOptions>(demo =>
        {
            if (demo.BrandUrl.Length == 0)
            {
                var site = configuration["Parley:PublicUrl"] is { Length: > 0 } configured
                    ? configured
                    : (configuration["urls"] ?? "http://localhost:5080").Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
                demo.BrandUrl = Operations.PublicAddress.Browsable(site) + DemoBrand.BasePath;
            }
        });
        services.AddSingleton<DemoBrand>();
        services.AddHostedService<DemoSeed>();
        return services;
    }
}
