using Parley.Conversations;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Parley.Storage;

namespace Parley.Messaging;

/// <summary>
/// Group commit: concurrent sends queue here and are written in one transaction, so one fsync
/// serves many messages. A send completes only after its transaction committed; when the database
/// is unavailable every send in the batch fails and none is acknowledged.
/// <para>
/// With several writers (<see cref="StorageOptions.WriterCount"/>), a conversation stays with one writer while
/// any of its messages is queued or being written, so its messages are stored in the order they
/// were queued. A conversation with nothing in flight goes to the first writer unless a whole batch
/// already waits there, and then to the writer with the shortest queue: a moderate load commits
/// few large batches, as with one writer, and only a load one writer cannot keep up with spreads.
/// </para>
/// </summary>
public sealed partial class MessageWriter : BackgroundService
{
    private readonly Channel<PendingMessage>[] _queues;
    private readonly IMessageStore _messageStore;
    private readonly ILiveFanout _fanout;
    private readonly ILogger<MessageWriter> _logger;
    private readonly int _maxBatch;
    private readonly Lock _routesLock = new();

    /// <summary>The writer of each conversation that has messages in flight, and how many.</summary>
    private readonly Dictionary<Guid, Route> _routes = [];

    private readonly Operations.ParleyMetrics _metrics;
    private readonly TimeProvider _time;

    public MessageWriter(
        IMessageStore messageStore, ILiveFanout fanout, IOptions<StorageOptions> options, ILogger<MessageWriter> logger, Operations.ParleyMetrics metrics, TimeProvider time)
    {
        _metrics = metrics;
        _time = time;
        _messageStore = messageStore;
        _fanout = fanout;
        _logger = logger;
        _maxBatch = options.Value.MaxBatchSize;
        _queues = [.. Enumerable.Range(0, Math.Max(1, options.Value.WriterCount)).Select(_ => Channel.CreateBounded<PendingMessage>(
            new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }))];
    }

    /// <summary>Stores one message (or finds its earlier copy) and publishes it when new.</summary>
    public async Task<AppendResult> AppendAsync(Guid tenantId, NewMessage message, CancellationToken cancellationToken) =>
        await (await EnqueueAsync(tenantId, message, cancellationToken)).WaitAsync(cancellationToken);

    /// <summary>
    /// Queues one message and returns once it is queued; the returned task completes when it is
    /// durable. Messages are stored in the order they were queued.
    /// </summary>
    public async Task<Task<AppendResult>> EnqueueAsync(Guid tenantId, NewMessage message, CancellationToken cancellationToken)
    {
        var pending = new PendingMessage(tenantId, message);
        var writer = Take(message.ConversationId);
        try
        {
            await _queues[writer].Writer.WriteAsync(pending, cancellationToken);
        }
        catch
        {
            Release(message.ConversationId);
            throw;
        }

        return pending.Completion.Task;
    }

    /// <summary>The writer for one more message of this conversation.</summary>
    private int Take(Guid conversationId)
    {
        if (_queues.Length == 1)
        {
            return 0;
        }

        lock (_routesLock)
        {
            if (!_routes.TryGetValue(conversationId, out var route))
            {
                route = new Route(_queues[0].Reader.Count < _maxBatch ? 0 : Shortest());
                _routes.Add(conversationId, route);
            }

            route.InFlight++;
            return route.Writer;
        }
    }

    private int Shortest()
    {
        var shortest = 0;
        for (var i = 1; i < _queues.Length; i++)
        {
            if (_queues[i].Reader.Count < _queues[shortest].Reader.Count)
            {
                shortest = i;
            }
        }

        return shortest;
    }

    /// <summary>One message of this conversation is written (or refused): the next may go to any writer once none is left.</summary>
    private void Release(Guid conversationId)
    {
        if (_queues.Length == 1)
        {
            return;
        }

        lock (_routesLock)
        {
            if (_routes.TryGetValue(conversationId, out var route) && --route.InFlight == 0)
            {
                _routes.Remove(conversationId);
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_queues.Select(queue => Task.Run(() => RunAsync(queue.Reader), CancellationToken.None)));

    private async Task RunAsync(ChannelReader<PendingMessage> queue)
    {
        var batch = new List<PendingMessage>(_maxBatch);
        // Drain what is queued even while stopping, so no accepted send is left hanging.
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && queue.TryRead(out var next))
            {
                batch.Add(next);
            }

            await WriteAsync(batch);
            foreach (var pending in batch)
            {
                Release(pending.Message.ConversationId);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await base.StopAsync(cancellationToken);
    }

    private async Task WriteAsync(List<PendingMessage> batch)
    {
        // One span per commit, linked to the frames or requests whose messages it stores.
        using var span = Operations.ParleyMetrics.Tracing.StartActivity("store messages", System.Diagnostics.ActivityKind.Internal, default(System.Diagnostics.ActivityContext),
            links: batch.Where(p => p.Origin != default).Select(p => new System.Diagnostics.ActivityLink(p.Origin)).Take(32));
        span?.SetTag("parley.batch.size", batch.Count);
        try
        {
            var started = _time.GetTimestamp();
            var results = await _messageStore.AppendMessagesAsync(batch.Select(p => p.Message).ToList(), CancellationToken.None);
            _metrics.BatchStored(results.Count(r => r.Created), _time.GetElapsedTime(started));
            LogBatch(_logger, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                Complete(batch[i], results[i]);
            }
        }
        catch (StorageUnavailableException exception)
        {
            LogUnavailable(_logger, batch.Count, exception);
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(ParleyException.StorageUnavailable());
            }
        }
        catch (Exception exception) when (batch.Count > 1)
        {
            // One bad message must not sink its neighbours: write them one by one to isolate it.
            LogBatchRetried(_logger, batch.Count, exception);
            foreach (var pending in batch)
            {
                await WriteAsync([pending]);
            }
        }
        catch (Exception exception)
        {
            batch[0].Completion.TrySetException(exception);
        }
    }

    private void Complete(PendingMessage pending, AppendResult result)
    {
        if (result.Refusal is { } refusal)
        {
            pending.Completion.TrySetException(Refused(refusal));
            return;
        }

        if (result.Created)
        {
            _fanout.Publish(new MessageStored(pending.TenantId, result.Message));
        }

        pending.Completion.TrySetResult(result);
    }

    /// <summary>The error a sender gets when its message's guard refused it.</summary>
    private static ParleyException Refused(AppendRefusal refusal) => refusal switch
    {
        AppendRefusal.Closed => new ParleyException(
            ErrorCodes.ConversationClosed, "The conversation is closed; resume it before sending.", StatusCodes.Status409Conflict),
        AppendRefusal.NotAssigned => new ParleyException(
            ErrorCodes.NotAssigned, "Accept the conversation before replying.", StatusCodes.Status409Conflict),
        _ => ParleyException.NotFound("The conversation"),
    };

    private sealed class Route(int writer)
    {
        public int Writer { get; } = writer;

        public int InFlight { get; set; }
    }

    private sealed record PendingMessage(Guid TenantId, NewMessage Message)
    {
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The span of the frame or request that queued it, to link the commit's span to.</summary>
        public System.Diagnostics.ActivityContext Origin { get; } = System.Diagnostics.Activity.Current?.Context ?? default;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Committed a batch of {Count} messages")]
    private static partial void LogBatch(ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Storage unavailable; refused a batch of {Count} messages")]
    private static partial void LogUnavailable(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "A batch of {Count} messages failed; retrying them one by one")]
    private static partial void LogBatchRetried(ILogger logger, int count, Exception exception);
}
