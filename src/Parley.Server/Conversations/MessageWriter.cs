using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Parley.Storage;

namespace Parley.Conversations;

/// <summary>
/// Group commit: concurrent sends queue here and are written in one transaction, so one fsync
/// serves many messages. A send completes only after its transaction committed; when the database
/// is unavailable every send in the batch fails and none is acknowledged. Conversations are shared
/// among <see cref="StorageOptions.Writers"/> writers by id: a conversation's messages are
/// always written by the same one, in the order they were queued.
/// </summary>
public sealed partial class MessageWriter : BackgroundService
{
    private readonly Channel<PendingMessage>[] _queues;
    private readonly IParleyStore _store;
    private readonly ILiveFanout _fanout;
    private readonly ILogger<MessageWriter> _logger;
    private readonly int _maxBatch;

    public MessageWriter(IParleyStore store, ILiveFanout fanout, IOptions<StorageOptions> options, ILogger<MessageWriter> logger)
    {
        _store = store;
        _fanout = fanout;
        _logger = logger;
        _maxBatch = options.Value.MaxBatchSize;
        _queues = [.. Enumerable.Range(0, Math.Max(1, options.Value.Writers)).Select(_ => Channel.CreateBounded<PendingMessage>(
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
        var queue = _queues[(int)((uint)message.ConversationId.GetHashCode() % (uint)_queues.Length)];
        await queue.Writer.WriteAsync(pending, cancellationToken);
        return pending.Completion.Task;
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
        try
        {
            var results = await _store.AppendMessagesAsync(batch.Select(p => p.Message).ToList(), CancellationToken.None);
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

    private sealed record PendingMessage(Guid TenantId, NewMessage Message)
    {
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Committed a batch of {Count} messages")]
    private static partial void LogBatch(ILogger logger, int count);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Storage unavailable; refused a batch of {Count} messages")]
    private static partial void LogUnavailable(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "A batch of {Count} messages failed; retrying them one by one")]
    private static partial void LogBatchRetried(ILogger logger, int count, Exception exception);
}
