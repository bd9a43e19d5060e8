using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Parley.Operations;

/// <summary>
/// The instruments an operator watches (docs/operations.md), all named <c>parley.*</c>. Tags are
/// low-cardinality names only — a role, a frame type, an outcome, a check, a policy — never an id,
/// a token, a claim or a message's text.
/// </summary>
public sealed class ParleyMetrics
{
    /// <summary>The meter's name, to listen to (OpenTelemetry's <c>AddMeter</c>).</summary>
    public const string MeterName = "Parley";

    /// <summary>Spans: a frame's handling, a message batch's commit (linked to the frames that queued it).</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _framesIn;
    private readonly Counter<long> _framesOut;
    private readonly Counter<long> _messagesStored;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _fanoutLag;
    private readonly Counter<long> _logins;
    private readonly Counter<long> _rateLimited;
    private Func<QueueFigures>? _queues;

    public ParleyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _connections = meter.CreateUpDownCounter<long>("parley.connections", "{connection}", "WebSocket connections open, by role.");
        _framesIn = meter.CreateCounter<long>("parley.frames.received", "{frame}", "Frames read from clients, by role and frame type.");
        _framesOut = meter.CreateCounter<long>("parley.frames.sent", "{frame}", "Frames written to clients, by role.");
        _messagesStored = meter.CreateCounter<long>("parley.messages.stored", "{message}", "Messages made durable (text and events).");
        _commitDuration = meter.CreateHistogram<double>("parley.storage.commit.duration", "s", "Time to store one batch of messages, commit included.");
        _batchSize = meter.CreateHistogram<int>("parley.storage.batch.size", "{message}", "Messages per group commit.");
        _fanoutLag = meter.CreateHistogram<double>("parley.fanout.lag", "s", "From a message's durable store to its write on a watcher's socket.");
        _logins = meter.CreateCounter<long>("parley.logins", "{login}", "Visitor logins (pre-chat and mid-chat), by outcome and the check a refused one failed.");
        _rateLimited = meter.CreateCounter<long>("parley.rate_limit.refusals", "{request}", "Requests and frames refused by a limit, by policy.");
        meter.CreateObservableGauge("parley.conversations.waiting", () => _queues?.Invoke().Waiting ?? 0, "{conversation}",
            "Conversations waiting for an agent, all tenants (read every 15 s).");
        meter.CreateObservableGauge("parley.conversations.longest_wait", () => _queues?.Invoke().LongestWaitSeconds ?? 0, "s",
            "The longest current wait for an agent, all tenants (read every 15 s).");
    }

    /// <summary>Where the waiting figures come from (a background reader keeps them fresh).</summary>
    public void ObserveQueues(Func<QueueFigures> figures) => _queues = figures;

    public IDisposable Connected(string role)
    {
        var tag = new KeyValuePair<string, object?>("parley.role", role);
        _connections.Add(1, tag);
        return new Disconnect(_connections, tag);
    }

    public void FrameReceived(string role, string type) =>
        _framesIn.Add(1, new KeyValuePair<string, object?>("parley.role", role), new KeyValuePair<string, object?>("parley.frame.type", type));

    public void FrameSent(string role) => _framesOut.Add(1, new KeyValuePair<string, object?>("parley.role", role));

    public void BatchStored(int messages, TimeSpan duration)
    {
        _messagesStored.Add(messages);
        _batchSize.Record(messages);
        _commitDuration.Record(duration.TotalSeconds);
    }

    public void Delivered(TimeSpan lag) => _fanoutLag.Record(Math.Max(0, lag.TotalSeconds));

    /// <summary>A login's outcome: <paramref name="kind"/> is pre-chat or mid-chat; <paramref name="check"/> the failed check of a refused one.</summary>
    public void Login(string kind, bool succeeded, string? check) =>
        _logins.Add(1, new KeyValuePair<string, object?>("parley.login.kind", kind),
            new KeyValuePair<string, object?>("parley.login.outcome", succeeded ? "succeeded" : "refused"),
            new KeyValuePair<string, object?>("parley.login.check", succeeded ? null : check ?? "unknown"));

    public void RateLimited(string policy) => _rateLimited.Add(1, new KeyValuePair<string, object?>("parley.policy", policy));

    private sealed class Disconnect(UpDownCounter<long> counter, KeyValuePair<string, object?> tag) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                counter.Add(-1, tag);
            }
        }
    }
}

/// <summary>Conversations waiting for an agent, and the longest wait, across tenants.</summary>
public sealed record QueueFigures(long Waiting, double LongestWaitSeconds);
