using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Parley.Load;

/// <summary>Counters and latency samples, kept only between <see cref="Start"/> and <see cref="Stop"/>.</summary>
public sealed class Stats
{
    private readonly ConcurrentBag<List<double>> _latencies = [];
    private readonly ConcurrentBag<List<double>> _acks = [];
    private volatile bool _measuring;
    private long _delivered;
    private long _sent;
    private long _errors;

    public long Delivered => Interlocked.Read(ref _delivered);

    public long Sent => Interlocked.Read(ref _sent);

    public long Errors => Interlocked.Read(ref _errors);

    public bool Measuring => _measuring;

    public void Start() => _measuring = true;

    public void Stop() => _measuring = false;

    /// <summary>A list for one connection's samples (written by its receive loop only).</summary>
    public List<double> LatencyList()
    {
        var list = new List<double>();
        _latencies.Add(list);
        return list;
    }

    public List<double> AckList()
    {
        var list = new List<double>();
        _acks.Add(list);
        return list;
    }

    public void CountDelivered() => Interlocked.Increment(ref _delivered);

    public void CountSent() => Interlocked.Increment(ref _sent);

    public void CountError() => Interlocked.Increment(ref _errors);

    public List<double> Latencies() => [.. _latencies.SelectMany(l => l)];

    public List<double> AckLatencies() => [.. _acks.SelectMany(l => l)];
}

/// <summary>A visitor: one conversation, messages sent within a window of unacknowledged ones.</summary>
public sealed class ConsumerClient : IAsyncDisposable
{
    private readonly Stats _stats;
    private readonly List<double> _latencies;
    private readonly List<double> _acks;
    private readonly SemaphoreSlim _window;
    private readonly ConcurrentDictionary<string, long> _pending = new();
    private readonly TaskCompletionSource<JsonElement> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Client _client = null!;
    private Guid _conversationId;
    private long _next;

    private ConsumerClient(Stats stats, int window)
    {
        _stats = stats;
        _latencies = stats.LatencyList();
        _acks = stats.AckList();
        _window = new SemaphoreSlim(window);
    }

    public static async Task<ConsumerClient> ConnectAsync(Target target, Uri node, string? jwt, int window, Stats stats)
    {
        var consumer = new ConsumerClient(stats, window);
        using var http = new HttpClient();
        var token = await Scenarios.SessionAsync(http, node, target.DeploymentId, jwt);
        consumer._client = await Client.ConnectAsync(Scenarios.ConsumerUri(node, target), null, consumer.OnFrame, CancellationToken.None);
        await consumer._client.SendAsync(JsonSerializer.Serialize(new { type = "auth", token }));
        await consumer._ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await consumer._client.SendAsync("""{"type":"conversation.start"}""");
        consumer._conversationId = (await consumer._started.Task.WaitAsync(TimeSpan.FromSeconds(30))).GetProperty("id").GetGuid();
        await consumer._client.SendAsync(JsonSerializer.Serialize(new { type = "conversation.subscribe", conversationId = consumer._conversationId, since = 0 }));
        await consumer._subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return consumer;
    }

    private void OnFrame(JsonElement frame)
    {
        switch (frame.GetProperty("type").GetString())
        {
            case "ready":
                _ready.TrySetResult();
                break;
            case "conversation":
                _started.TrySetResult(frame.GetProperty("conversation").Clone());
                break;
            case "subscribed":
                _subscribed.TrySetResult();
                break;
            case "message.ack":
                if (_pending.TryRemove(frame.GetProperty("clientMessageId").GetString()!, out var sentAt))
                {
                    if (_stats.Measuring)
                    {
                        _acks.Add(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
                    }

                    _window.Release();
                }

                break;
            case "message":
                var message = frame.GetProperty("message");
                if (message.GetProperty("senderRole").GetString() == "agent" && _stats.Measuring)
                {
                    _latencies.Add(Scenarios.AgeOf(message.GetProperty("text").GetString()!));
                    _stats.CountDelivered();
                }

                break;
            case "error":
                _stats.CountError();
                if (frame.TryGetProperty("clientMessageId", out var failed) && failed.GetString() is { } id && _pending.TryRemove(id, out _))
                {
                    _window.Release();
                }

                break;
        }
    }

    /// <summary>Sends whenever the window has room, until cancelled.</summary>
    public async Task SendAsFastAsPossibleAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await _window.WaitAsync(cancellationToken);
            await SendAsync();
        }
    }

    /// <summary>One message now, whatever the window (the fixed-rate scenario).</summary>
    public Task SendOneAsync() => SendAsync();

    private async Task SendAsync()
    {
        var id = "c" + Interlocked.Increment(ref _next);
        _pending[id] = Stopwatch.GetTimestamp();
        if (_stats.Measuring)
        {
            _stats.CountSent();
        }

        await _client.SendAsync(JsonSerializer.Serialize(new { type = "message.send", conversationId = _conversationId, clientMessageId = id, text = Scenarios.Text() }));
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        _window.Dispose();
    }
}

/// <summary>An agent: takes the conversations assigned to them and answers every visitor message at once.</summary>
public sealed class AgentClient : IAsyncDisposable
{
    private readonly Stats _stats;
    private readonly List<double> _latencies;
    private readonly HashSet<Guid> _conversations = [];
    private Client _client = null!;
    private Guid _id;
    private long _next;
    private int _subscribed;

    private AgentClient(Stats stats)
    {
        _stats = stats;
        _latencies = stats.LatencyList();
    }

    public int Subscribed => Volatile.Read(ref _subscribed);

    public static async Task<AgentClient> ConnectAsync(Target target, Uri node, string email, Stats stats)
    {
        var agent = new AgentClient(stats);
        using var http = new HttpClient();
        var login = await (await http.PostAsJsonAsync(new Uri(node, "/api/v1/agent/login"), new { email, password = Target.Password })).Content.ReadFromJsonAsync<JsonElement>();
        agent._id = login.GetProperty("agent").GetProperty("id").GetGuid();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        agent._client = await Client.ConnectAsync(new Uri($"ws://{node.Authority}/ws/agent"), login.GetProperty("token").GetString(), frame =>
        {
            if (frame.GetProperty("type").GetString() == "ready")
            {
                ready.TrySetResult();
            }

            agent.OnFrame(frame);
        }, CancellationToken.None);
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return agent;
    }

    private void OnFrame(JsonElement frame)
    {
        switch (frame.GetProperty("type").GetString())
        {
            case "conversation.updated":
                var conversation = frame.GetProperty("conversation");
                if (conversation.TryGetProperty("assignedAgentId", out var assigned) && assigned.ValueKind == JsonValueKind.String
                    && assigned.GetGuid() == _id && _conversations.Add(conversation.GetProperty("id").GetGuid()))
                {
                    _ = _client.SendAsync(JsonSerializer.Serialize(new { type = "conversation.subscribe", conversationId = conversation.GetProperty("id").GetGuid(), since = 0 }));
                }

                break;
            case "subscribed":
                Interlocked.Increment(ref _subscribed);
                break;
            case "message":
                var message = frame.GetProperty("message");
                // Only the measured consumers' messages (they start with a timestamp): a flooder's are not answered.
                if (message.GetProperty("senderRole").GetString() == "consumer" && Scenarios.IsTimed(message.GetProperty("text").GetString()!))
                {
                    if (_stats.Measuring)
                    {
                        _latencies.Add(Scenarios.AgeOf(message.GetProperty("text").GetString()!));
                        _stats.CountDelivered();
                    }

                    _ = _client.SendAsync(JsonSerializer.Serialize(new
                    {
                        type = "message.send", conversationId = message.GetProperty("conversationId").GetGuid(),
                        clientMessageId = "a" + Interlocked.Increment(ref _next), text = Scenarios.Text(),
                    }));
                }

                break;
            case "error":
                _stats.CountError();
                break;
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
