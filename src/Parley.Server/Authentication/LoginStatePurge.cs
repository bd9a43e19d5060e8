using Parley.Operations;
using Parley.Storage;

namespace Parley.Authentication;

/// <summary>
/// Deletes expired login states every 10 minutes: bots send login links that are never used, and
/// their states must not pile up. An expired state is refused anyway; this only reclaims space.
/// Safe on several nodes (each runs one idempotent DELETE).
/// </summary>
internal sealed partial class LoginStatePurge(ILoginStateStore loginStateStore, TimeProvider time, ILogger<LoginStatePurge> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Housekeeping.EveryAsync(Interval, time, PurgeAsync, exception => LogFailed(logger, exception), stoppingToken);

    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        if (await loginStateStore.PurgeExpiredLoginStatesAsync(time.GetUtcNow(), cancellationToken) is > 0 and var purged)
        {
            LogPurged(logger, purged);
        }
    }

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Purging expired login states failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Purged {Count} expired login states")]
    private static partial void LogPurged(ILogger logger, int count);
}
