using System.Diagnostics.Metrics;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Per-queue figures through <see cref="System.Diagnostics.Metrics"/> (meter <c>Parley.Routing</c>),
/// tagged <c>parley.tenant</c> and <c>parley.queue</c>: waiting conversations, the longest current
/// wait, and the average time to first response over <see cref="ResponseWindow"/>. The figures come
/// from the database, refreshed by the routing sweep; the longest wait is computed at each read.
/// </summary>
public sealed class QueueMetrics
{
    public const string MeterName = "Parley.Routing";
    public static readonly TimeSpan ResponseWindow = TimeSpan.FromHours(24);
    private readonly TimeProvider _time;
    private volatile IReadOnlyList<QueueStatistics> _latest = [];

    public QueueMetrics(IMeterFactory meters, TimeProvider time)
    {
        _time = time;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge(
            "parley.queue.waiting",
            () => _latest.Select(q => new Measurement<int>(q.Waiting, Tags(q))),
            unit: "{conversation}",
            description: "Open conversations in the queue that no agent has yet.");
        meter.CreateObservableGauge(
            "parley.queue.longest_wait",
            () => _latest.Where(q => q.OldestQueuedAt is not null)
                .Select(q => new Measurement<double>(Math.Max(0, (_time.GetUtcNow() - q.OldestQueuedAt!.Value).TotalSeconds), Tags(q))),
            unit: "s",
            description: "How long the longest-waiting conversation in the queue has waited.");
        meter.CreateObservableGauge(
            "parley.queue.first_response.average",
            () => _latest.Where(q => q.AverageFirstResponseMilliseconds is not null)
                .Select(q => new Measurement<double>(q.AverageFirstResponseMilliseconds!.Value / 1000, Tags(q))),
            unit: "s",
            description: "Average time from entering the queue to an agent's first message, over the last 24 hours.");
    }

    public void Update(IReadOnlyList<QueueStatistics> statistics) => _latest = statistics;

    private static KeyValuePair<string, object?>[] Tags(QueueStatistics q) =>
        [new("parley.tenant", q.TenantId.ToString()), new("parley.queue", q.Queue)];
}
