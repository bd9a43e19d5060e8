namespace Parley.Operations;

/// <summary>The loop of Parley's background chores (login states, retention, the routing sweep).</summary>
public static class Housekeeping
{
    /// <summary>
    /// Runs <paramref name="round"/> now and then every <paramref name="interval"/> until the host
    /// stops. A failed round (the database is away) is reported to <paramref name="failed"/> and the
    /// next one tries again: housekeeping never stops the server.
    /// </summary>
    public static async Task EveryAsync(
        TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> round, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await round(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                failed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
