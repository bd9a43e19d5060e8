using Microsoft.Extensions.Options;
using Parley.Conversations;
using Parley.Messaging;
using Parley.Security;
using Parley.Storage;

namespace Parley.Realtime;

public static partial class RealtimeEndpoints
{
    public static IServiceCollection AddRealtime(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RealtimeOptions>()
            .Bind(configuration.GetSection(RealtimeOptions.Section))
            .Validate(o => o.MaxFrameBytes is >= 1024 and <= 1024 * 1024, "Parley:Realtime:MaxFrameBytes must be between 1 KB and 1 MB.")
            .Validate(o => o.HandshakeTimeout > TimeSpan.Zero, "Parley:Realtime:HandshakeTimeout must be positive.")
            .Validate(o => o.KeepAliveTimeout >= TimeSpan.Zero, "Parley:Realtime:KeepAliveTimeout may not be negative.")
            .Validate(o => o.OutboundQueueLimit >= 16, "Parley:Realtime:OutboundQueueLimit must be at least 16.")
            .Validate(o => o.ReplayPageSize is >= 1 and <= 1000, "Parley:Realtime:ReplayPageSize must be between 1 and 1000.")
            .Validate(o => o.MaxSendsInFlight is >= 1 and <= 10_000, "Parley:Realtime:MaxSendsInFlight must be between 1 and 10000.")
            .Validate(o => o.DrainTimeout >= TimeSpan.Zero && o.DrainTimeout <= TimeSpan.FromMinutes(1), "Parley:Realtime:DrainTimeout must be between 0 and 1 minute.")
            .Validate(o => o.CloseHandshakeTimeout > TimeSpan.Zero && o.CloseHandshakeTimeout <= TimeSpan.FromMinutes(1), "Parley:Realtime:CloseHandshakeTimeout must be between 0 and 1 minute.")
            .Validate(o => o.SessionRecheckInterval >= TimeSpan.FromSeconds(1) && o.SessionRecheckInterval <= TimeSpan.FromMinutes(10),
                "Parley:Realtime:SessionRecheckInterval must be between 1 second and 10 minutes.")
            .ValidateOnStart();
        services.AddSingleton<FrameDispatcherFactory>();
        services.AddSingleton<LiveConnections>();
        return services;
    }

    /// <summary>The WebSocket middleware, with the keep-alive of <see cref="RealtimeOptions"/>; before the routes.</summary>
    public static IApplicationBuilder UseRealtime(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<RealtimeOptions>>().Value;
        return app.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout > TimeSpan.Zero ? options.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
        });
    }

    /// <summary><c>/ws/consumer?deploymentId=…</c> and <c>/ws/agent</c>: the live messaging protocol (docs/protocol.md).</summary>
    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder app)
    {
        app.Map("/ws/consumer", AcceptConsumerAsync);
        app.Map("/ws/agent", AcceptAgentAsync);
        return app;
    }

    private static async Task AcceptConsumerAsync(HttpContext context, IDeploymentStore deploymentStore, CallerAuthenticator authenticator)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problem(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "This endpoint only accepts WebSocket upgrades.");
            return;
        }

        if (!Guid.TryParse(context.Request.Query["deploymentId"], out var deploymentId) || deploymentId == Guid.Empty)
        {
            await Problem(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "deploymentId is required in the query: /ws/consumer?deploymentId=<deployment id>.");
            return;
        }

        if (await deploymentStore.GetDeploymentAsync(deploymentId, context.RequestAborted) is not { } deployment)
        {
            await Problem(context, StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Unknown deploymentId.");
            return;
        }

        // Browsers always send Origin on WebSocket upgrades; native apps do not and are allowed.
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !deployment.AllowsMessengerFrom(context.Request, origin))
        {
            LogOriginRefused(Logger(context), deploymentId);
            await Problem(context, StatusCodes.Status403Forbidden, ErrorCodes.OriginNotAllowed, "This origin is not allowed for the deployment.");
            return;
        }

        Caller? caller = null;
        if (CallerAuthenticationHandler.BearerToken(context.Request) is { } token)
        {
            var check = await authenticator.CheckConsumerAsync(token, context.RequestAborted);
            if (check.Ended)
            {
                await Problem(context, StatusCodes.Status401Unauthorized, ErrorCodes.AuthenticationExpired, "This device's session has ended; log in again (or start a new visitor session).");
                return;
            }

            caller = check.Caller;
            if (caller is not ConsumerCaller consumer || consumer.DeploymentId != deploymentId)
            {
                await Problem(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The visitor token is unknown, expired, or for another deployment.");
                return;
            }
        }

        await RunAsync(context, caller, ParticipantRole.Consumer, deploymentId);
    }

    private static async Task AcceptAgentAsync(HttpContext context, CallerAuthenticator authenticator)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problem(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, "This endpoint only accepts WebSocket upgrades.");
            return;
        }

        // The agent cookie must not ride on a WebSocket opened by another site (cross-site WebSocket hijacking).
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !MessengerOrigins.IsSameOrigin(context.Request, origin))
        {
            await Problem(context, StatusCodes.Status403Forbidden, ErrorCodes.OriginNotAllowed, "Agent connections are only accepted from Parley's own origin.");
            return;
        }

        var token = CallerAuthenticationHandler.BearerToken(context.Request) ?? context.Request.Cookies[CallerSchemes.AgentCookie];
        Caller? caller = null;
        if (token is not null && (caller = await authenticator.AuthenticateAgentAsync(token, context.RequestAborted)) is null)
        {
            await Problem(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The agent token is unknown or expired.");
            return;
        }

        await RunAsync(context, caller, ParticipantRole.Agent, null);
    }

    private static async Task RunAsync(HttpContext context, Caller? caller, ParticipantRole role, Guid? deploymentId)
    {
        var services = context.RequestServices;
        var logger = Logger(context);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var connection = new RealtimeConnection(
            socket,
            services.GetRequiredService<IOptions<RealtimeOptions>>().Value,
            services.GetRequiredService<IMessageStore>(),
            logger,
            caller,
            role == ParticipantRole.Consumer ? FrameBudgetOf(services) : null,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<Operations.ParleyMetrics>(),
            role.Wire());
        using var connected = services.GetRequiredService<Operations.ParleyMetrics>().Connected(role.Wire());
        using var dispatcher = services.GetRequiredService<FrameDispatcherFactory>().Create(logger, role, deploymentId);
        using var counted = services.GetRequiredService<LiveConnections>().Add(connection);
        await connection.RunAsync(dispatcher, context.RequestAborted);
    }

    /// <summary>A visitor's frame budget (agents' connections have none).</summary>
    private static FrameBudget FrameBudgetOf(IServiceProvider services)
    {
        var limits = services.GetRequiredService<IOptions<LimitOptions>>().Value;
        return new FrameBudget(limits.FramesPerSecond, limits.FrameBurst, services.GetRequiredService<TimeProvider>());
    }

    private static Task Problem(HttpContext context, int status, string code, string detail) =>
        Results.Problem(detail: detail, statusCode: status, extensions: new Dictionary<string, object?> { ["code"] = code })
            .ExecuteAsync(context);

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Realtime");

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Refused a consumer WebSocket for deployment {DeploymentId}: origin not allowed")]
    private static partial void LogOriginRefused(ILogger logger, Guid deploymentId);
}
