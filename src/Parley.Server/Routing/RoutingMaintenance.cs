using Microsoft.Extensions.Options;
using Parley.Storage;
using Parley.Operations;

namespace Parley.Routing;

/// <summary>The <c>Parley:Routing</c> configuration section.</summary>
public sealed class RoutingOptions
{
    public const string Section = "Parley:Routing";

    /// <summary>How often expired logins are re-routed, automatic assignment retried and queue metrics refreshed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// The routing sweep: records this node's heartbeat and agent presence, routes again the waiting
/// conversations whose login expired, returns the conversations of agents away past the grace
/// period, retries automatic assignment for tenants with agents connected here, forgets nodes gone
/// for a day (hourly), and refreshes the queue metrics. Safe on several nodes: every step is idempotent and
/// assignment is atomic in the database.
/// </summary>
public sealed partial class RoutingMaintenance(
    IRoutingStore routingStore, IPresenceStore presenceStore,
    Router router,
    AutoAssigner assigner,
    AgentPresence presence,
    QueueMetrics metrics,
    TimeProvider time,
    IOptions<RoutingOptions> options,
    ILogger<RoutingMaintenance> logger) : BackgroundService
{
    private const int RerouteBatch = 500;
    private static readonly TimeSpan ForgetNodesAfter = TimeSpan.FromDays(1);
    private static readonly TimeSpan PurgeNodesEvery = TimeSpan.FromHours(1);
    private DateTimeOffset _nodesPurgedAt = DateTimeOffset.MinValue;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Housekeeping.EveryAsync(options.Value.SweepInterval, time, SweepAsync, exception => LogFailed(logger, exception), stoppingToken);

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await presence.HeartbeatAsync(cancellationToken);
        foreach (var conversation in await routingStore.ListConversationsToRerouteAsync(now, RerouteBatch, cancellationToken))
        {
            await router.RerouteAsync(conversation.Id, enqueue: false, preferredQueue: null, cancellationToken);
        }

        await assigner.ReturnFromAwayAgentsAsync(cancellationToken);
        foreach (var tenantId in await presence.LocalTenantsAsync(cancellationToken))
        {
            await assigner.AssignWaitingAsync(tenantId, cancellationToken);
        }

        // Forgetting nodes gone for a day is a write; once an hour is plenty.
        if (now - _nodesPurgedAt >= PurgeNodesEvery)
        {
            await presenceStore.PurgeNodesAsync(now - ForgetNodesAfter, cancellationToken);
            _nodesPurgedAt = now;
        }

        metrics.Update(await routingStore.GetQueueStatisticsAsync(null, now - QueueMetrics.ResponseWindow, cancellationToken));
    }

    [LoggerMessage(EventId = 8006, Level = LogLevel.Warning, Message = "The routing sweep failed; the next one tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
