using Parley.Storage;

namespace Parley.Authentication;

/// <summary>
/// Deletes expired login states every 10 minutes: bots send login links that are never used, and
/// their states must not pile up. An expired state is refused anyway; this only reclaims space.
/// Safe on several nodes (each runs one idempotent DELETE).
/// </summary>
internal sealed partial class LoginStatePurge(IParleyStore store, TimeProvider time, ILogger<LoginStatePurge> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                if (await store.PurgeExpiredLoginStatesAsync(time.GetUtcNow(), stoppingToken) is > 0 and var purged)
                {
                    LogPurged(logger, purged);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database is away or refused: housekeeping must never stop the server; the next round tries again.
                LogFailed(logger, exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Purging expired login states failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Purged {Count} expired login states")]
    private static partial void LogPurged(ILogger logger, int count);
}
