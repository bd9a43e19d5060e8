using Parley.Routing;
using Parley.Messaging;
using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Parley.Conversations;
using Parley.Security;
using Parley.Storage;

namespace Parley.Realtime;

/// <summary>
/// One WebSocket: a receive loop that parses and dispatches frames in order, and a single writer
/// that owns everything sent. The writer keeps a cursor (last seq sent) per subscribed
/// conversation, so replay and live traffic interleave with no gap and no duplicate: a live
/// message at the cursor is dropped, one past a gap triggers a read from storage.
/// </summary>
/// <remarks>
/// The writer runs only while frames are queued (a thread-pool work item started by the first
/// frame queued), so an idle connection holds no parked writer task, channel or cancellation
/// registration: thousands of idle visitors cost little memory.
/// </remarks>
internal sealed partial class RealtimeConnection : ILiveSubscriber, IDisposable, IThreadPoolWorkItem
{
    private readonly WebSocket _socket;
    private readonly RealtimeOptions _options;
    private readonly IMessageStore _messageStore;
    private readonly ILogger _logger;
    private readonly Dictionary<Guid, long> _cursors = [];                 // writer only
    private readonly Dictionary<Guid, IDisposable> _subscriptions = [];     // receive loop only
    private readonly CancellationTokenSource _aborted = new();
    private IDisposable? _tenantSubscription;
    private IDisposable? _sessionSubscription;
    private string? _endedBecause;
    private readonly FrameBudget? _budget;
    private readonly TimeProvider _time;
    private bool _slowed;
    private Caller? _caller;
    private Timer? _handshake;
    private Timer? _closeHandshake;

    // The outbound queue; it and the fields below are guarded by locking _outbound.
    private readonly Queue<Outbound> _outbound = new();
    private bool _started;       // RunAsync has begun: queued frames may be written
    private bool _completed;     // nothing more is queued: the connection ended or a close frame was sent
    private bool _writing;       // a writer is running (or scheduled) and will take what is queued
    private TaskCompletionSource? _writerStopped;
    private Exception? _writeFailure;

    private readonly Operations.ParleyMetrics? _metrics;
    private readonly string _role;

    public RealtimeConnection(
        WebSocket socket, RealtimeOptions options, IMessageStore messageStore, ILogger logger, Caller? caller, FrameBudget? budget, TimeProvider time,
        Operations.ParleyMetrics? metrics = null, string role = "consumer")
    {
        _metrics = metrics;
        _role = role;
        _socket = socket;
        _options = options;
        _budget = budget;
        _time = time;
        _messageStore = messageStore;
        _logger = logger;
        _caller = caller;
    }

    /// <summary>Who is on this connection: null until it authenticates.</summary>
    public Caller? Caller
    {
        get => _caller;
        set
        {
            _caller = value;
            if (value is not null)
            {
                Interlocked.Exchange(ref _handshake, null)?.Dispose();
            }
        }
    }

    public Guid ConnectionId { get; } = Guid.NewGuid();

    public async Task RunAsync(FrameDispatcher dispatcher, CancellationToken requestAborted)
    {
        using var abortWithRequest = requestAborted.UnsafeRegister(static state => ((RealtimeConnection)state!).Abort(), this);
        var cancellationToken = _aborted.Token;
        if (Caller is null)
        {
            _handshake = new Timer(
                static state => ((RealtimeConnection)state!).HandshakeTimedOut(), this, _options.HandshakeTimeout, Timeout.InfiniteTimeSpan);
        }

        StartWriting();
        try
        {
            if (Caller is not null)
            {
                dispatcher.OnReady(this);
            }

            await ReceiveLoopAsync(dispatcher, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (WebSocketException)
        {
            // The peer went away without a close handshake.
        }
        finally
        {
            if (Interlocked.Exchange(ref _handshake, null) is { } handshake)
            {
                await handshake.DisposeAsync();
            }

            await dispatcher.DrainAsync(this);
            dispatcher.OnClosed();
            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Dispose();
            }

            _tenantSubscription?.Dispose();
            _sessionSubscription?.Dispose();
            await WritingStoppedAsync();
        }
    }

    private void HandshakeTimedOut()
    {
        if (Caller is null)
        {
            Close(WebSocketCloseStatus.PolicyViolation, "authentication timeout");
        }
    }

    private void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Reads frames one at a time. An idle connection holds no receive buffer: it waits with a
    /// zero-byte read and rents a buffer only once a frame is arriving, so thousands of idle
    /// visitors cost little memory.
    /// </summary>
    private async Task ReceiveLoopAsync(FrameDispatcher dispatcher, CancellationToken cancellationToken)
    {
        while (_socket.State == WebSocketState.Open)
        {
            if ((await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken)).MessageType == WebSocketMessageType.Close)
            {
                await CloseReceivedAsync(cancellationToken);
                return;
            }

            await PaceAsync(cancellationToken);

            var buffer = ArrayPool<byte>.Shared.Rent(_options.MaxFrameBytes);
            try
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == _options.MaxFrameBytes)
                    {
                        LogFrameTooBig(_logger, ConnectionId, _options.MaxFrameBytes);
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig,
                            $"frames are limited to {_options.MaxFrameBytes} bytes", cancellationToken);
                        return;
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(count, _options.MaxFrameBytes - count), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseReceivedAsync(cancellationToken);
                        return;
                    }

                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Send(new ErrorFrame(ErrorCodes.InvalidFrame, "Frames are JSON text messages.", false));
                    continue;
                }

                var frame = FrameReader.Parse(buffer.AsSpan(0, count), out var error);
                var type = frame?.Name ?? "invalid";
                _metrics?.FrameReceived(_role, type);
                using var span = Operations.ParleyMetrics.Tracing.StartActivity("frame " + type, System.Diagnostics.ActivityKind.Server);
                span?.SetTag("parley.frame.type", type);
                span?.SetTag("parley.role", _role);
                await dispatcher.DispatchAsync(this, frame, error, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// A visitor over their frame budget is read no faster than the budget allows: the frame waits
    /// in the socket (TCP pushes back on the sender), nothing is dropped or refused, and the client
    /// is told once with a <c>rate_limited</c> error frame.
    /// </summary>
    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        if (_budget is null || _budget.TryTake())
        {
            return;
        }

        if (!_slowed)
        {
            _slowed = true;
            LogSlowed(_logger, ConnectionId, _budget.PerSecond);
            Send(new ErrorFrame(ErrorCodes.RateLimited, $"Too many frames: this connection is read at {_budget.PerSecond} frames per second for now.", true));
        }

        do
        {
            await Task.Delay(_budget.UntilNext(), _time, cancellationToken);
        }
        while (!_budget.TryTake());
    }

    private async Task CloseReceivedAsync(CancellationToken cancellationToken)
    {
        if (_socket.State == WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        }
    }

    public void Dispose()
    {
        _closeHandshake?.Dispose();
        _aborted.Dispose();
    }

    /// <summary>Queues a frame. Never blocks; a client too slow to keep up is disconnected.</summary>
    public void Send(OutboundFrame frame) => Enqueue(new SendOutbound(frame));

    /// <summary>Watches a conversation and replays its messages after <paramref name="since"/>.</summary>
    public void Subscribe(ILiveFanout fanout, Guid conversationId, long since, string? requestId)
    {
        if (!_subscriptions.ContainsKey(conversationId))
        {
            // Subscribe before replaying: whatever commits after the replay's read arrives live.
            _subscriptions[conversationId] = fanout.SubscribeConversation(conversationId, this);
        }

        Enqueue(new ReplayOutbound(conversationId, Math.Max(0, since), requestId));
    }

    public void SubscribeTenant(ILiveFanout fanout, Guid tenantId) =>
        _tenantSubscription ??= fanout.SubscribeTenant(tenantId, this);

    /// <summary>Listens for the end of the caller's session (on any node); replaces the listener of an earlier caller.</summary>
    public void WatchSession(ILiveFanout fanout)
    {
        _sessionSubscription?.Dispose();
        _sessionSubscription = Caller is { } caller ? fanout.SubscribeParticipant(caller.ParticipantId, this) : null;
    }

    /// <summary>Stops listening for the end of the caller's session (the connection is ending it itself).</summary>
    public void UnwatchSession()
    {
        _sessionSubscription?.Dispose();
        _sessionSubscription = null;
    }

    /// <summary>Why the session ended, once it has: the connection takes no more frames and is closing.</summary>
    public string? EndedBecause => Volatile.Read(ref _endedBecause);

    /// <summary>
    /// The caller's session ended (signed out, history cleared, expired, revoked): says so with
    /// <c>authentication_expired</c> and closes. Frames already on their way are refused.
    /// </summary>
    public void EndSession(string reason)
    {
        if (Interlocked.CompareExchange(ref _endedBecause, reason, null) is not null)
        {
            return;
        }

        Send(new ErrorFrame(ErrorCodes.AuthenticationExpired, $"This session has ended ({reason}). Sign in again.", false));
        Close(WebSocketCloseStatus.PolicyViolation, "session ended");
    }

    public void Close(WebSocketCloseStatus status, string reason) => Enqueue(new CloseOutbound(status, reason));

    public void OnEvent(LiveEvent liveEvent)
    {
        switch (liveEvent)
        {
            case MessageStored stored:
                Enqueue(new DeliverOutbound(stored.Message));
                break;
            case ReceiptChanged receipt:
                Send(new ReceiptUpdatedFrame(receipt.Receipt.ToView()));
                break;
            case TypingChanged typing when typing.ParticipantId != Caller?.ParticipantId:
                Send(new TypingUpdatedFrame(typing.ConversationId, typing.ParticipantId, typing.Role.Wire(), typing.IsTyping));
                break;
            case SessionEnded ended when Caller is { } caller && ended.Ends(caller.ParticipantId, caller.Session):
                EndSession(ended.Reason);
                break;
            case ConversationChanged changed:
                Send(Caller is AgentCaller
                    ? new AgentConversationFrame(changed.Conversation.ToAgentView())
                    : new ConsumerConversationFrame(changed.Conversation.ToConsumerView()));
                break;
        }
    }

    /// <summary>
    /// Queues an outbound item, starting the writer when none is running. A connection with
    /// <see cref="RealtimeOptions.OutboundQueueLimit"/> items queued is too slow: it is aborted.
    /// </summary>
    private void Enqueue(Outbound item)
    {
        bool tooSlow = false, start = false;
        lock (_outbound)
        {
            if (_completed)
            {
                return;
            }

            if (_outbound.Count >= _options.OutboundQueueLimit)
            {
                tooSlow = true;
            }
            else
            {
                _outbound.Enqueue(item);
                start = ClaimWriter();
            }
        }

        if (tooSlow)
        {
            LogTooSlow(_logger, ConnectionId);
            Abort();
        }
        else if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>From now on queued items are written; those queued before the start are written first.</summary>
    private void StartWriting()
    {
        bool start;
        lock (_outbound)
        {
            _started = true;
            start = ClaimWriter();
        }

        if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Under the lock: whether the caller is to start the writer (something is queued and none runs).</summary>
    private bool ClaimWriter()
    {
        if (!_started || _writing || _outbound.Count == 0)
        {
            return false;
        }

        _writing = true;
        return true;
    }

    /// <summary>Nothing more is queued; waits until what was queued is written (or writing failed).</summary>
    private async Task WritingStoppedAsync()
    {
        Task? stopped = null;
        lock (_outbound)
        {
            _completed = true;
            if (_writing)
            {
                _writerStopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                stopped = _writerStopped.Task;
            }
        }

        if (stopped is not null)
        {
            await stopped;
        }

        if (_writeFailure is { } failure and not (OperationCanceledException or WebSocketException))
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = WriteQueuedAsync();

    /// <summary>The writer: takes queued items in order until the queue is empty, then ends.</summary>
    private async Task WriteQueuedAsync()
    {
        var cancellationToken = _aborted.Token;
        try
        {
            while (true)
            {
                Outbound? item;
                TaskCompletionSource? stopped;
                lock (_outbound)
                {
                    if (_outbound.TryDequeue(out item))
                    {
                        stopped = null;
                    }
                    else
                    {
                        _writing = false;
                        stopped = _writerStopped;
                    }
                }

                if (item is null)
                {
                    stopped?.TrySetResult();
                    return;
                }

                await WriteAsync(item, cancellationToken);
            }
        }
        catch (Exception exception)
        {
            // The connection cannot be written to any more: it ends, and nothing more is queued.
            TaskCompletionSource? stopped;
            lock (_outbound)
            {
                _writeFailure = exception;
                _completed = true;
                _writing = false;
                _outbound.Clear();
                stopped = _writerStopped;
            }

            Abort();
            stopped?.TrySetResult();
        }
    }

    private async Task WriteAsync(Outbound item, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case SendOutbound send:
                await SendFrameAsync(send.Frame, cancellationToken);
                break;
            case DeliverOutbound deliver:
                await DeliverAsync(deliver.Message, cancellationToken);
                break;
            case ReplayOutbound replay:
                await ReplayAsync(replay, cancellationToken);
                break;
            case CloseOutbound close:
                lock (_outbound)
                {
                    // Nothing is sent after a close frame.
                    _completed = true;
                    _outbound.Clear();
                }

                if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(close.Status, close.Reason, cancellationToken);
                    // A peer that never answers the close must not hold the connection (or a stopping node) open.
                    _closeHandshake = new Timer(static state => ((RealtimeConnection)state!).Abort(), this, _options.CloseHandshakeTimeout, Timeout.InfiniteTimeSpan);
                }

                break;
        }
    }

    private async Task DeliverAsync(Message message, CancellationToken cancellationToken)
    {
        if (!_cursors.TryGetValue(message.ConversationId, out var cursor) || message.Seq <= cursor)
        {
            return; // Not replayed yet (the replay will read it) or already sent.
        }

        if (message.Seq == cursor + 1)
        {
            await SendFrameAsync(new MessageFrame(message.ToView()), cancellationToken);
            if (message.Data?.Contains("\"mergedFrom\"", StringComparison.Ordinal) != true)
            {
                _metrics?.Delivered(_time.GetUtcNow() - message.SentAt); // a merged copy keeps its old time: not a lag
            }
            _cursors[message.ConversationId] = message.Seq;
            return;
        }

        _cursors[message.ConversationId] = await SendFromStorageAsync(message.ConversationId, cursor, message.Seq, cancellationToken);
    }

    private async Task ReplayAsync(ReplayOutbound replay, CancellationToken cancellationToken)
    {
        var lastSeq = await SendFromStorageAsync(replay.ConversationId, replay.Since, long.MaxValue, cancellationToken);
        _cursors[replay.ConversationId] = lastSeq;
        await SendFrameAsync(new SubscribedFrame(replay.ConversationId, replay.Since, lastSeq) { RequestId = replay.RequestId }, cancellationToken);
        foreach (var receipt in await ReadStorageAsync(() => _messageStore.GetReceiptsAsync(replay.ConversationId, cancellationToken)))
        {
            await SendFrameAsync(new ReceiptUpdatedFrame(receipt.ToView()), cancellationToken);
        }
    }

    /// <summary>Sends stored messages with cursor &lt; seq ≤ upTo, page by page; returns the new cursor.</summary>
    private async Task<long> SendFromStorageAsync(Guid conversationId, long cursor, long upTo, CancellationToken cancellationToken)
    {
        while (cursor < upTo)
        {
            var page = await ReadStorageAsync(() => _messageStore.GetMessagesAsync(conversationId, cursor, _options.ReplayPageSize, cancellationToken));
            foreach (var message in page)
            {
                await SendFrameAsync(new MessageFrame(message.ToView()), cancellationToken);
                cursor = message.Seq;
            }

            if (page.Count < _options.ReplayPageSize)
            {
                break;
            }
        }

        return cursor;
    }

    private async Task<T> ReadStorageAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (StorageUnavailableException)
        {
            // Sending past a gap would break the no-gap promise: end the connection instead; the
            // client reconnects and resumes from its last seq once storage is back.
            await SendFrameAsync(new ErrorFrame(ErrorCodes.StorageUnavailable, "Storage is unavailable; reconnect and resume.", true), CancellationToken.None);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.InternalServerError, "storage unavailable", CancellationToken.None);
            throw new OperationCanceledException();
        }
    }

    private async Task SendFrameAsync(OutboundFrame frame, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, FrameJsonContext.Default.OutboundFrame);
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        _metrics?.FrameSent(_role);
    }

    private abstract record Outbound;

    private sealed record SendOutbound(OutboundFrame Frame) : Outbound;

    private sealed record DeliverOutbound(Message Message) : Outbound;

    private sealed record ReplayOutbound(Guid ConversationId, long Since, string? RequestId) : Outbound;

    private sealed record CloseOutbound(WebSocketCloseStatus Status, string Reason) : Outbound;

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Connection {ConnectionId} sent a frame over {Limit} bytes; closed with 1009")]
    private static partial void LogFrameTooBig(ILogger logger, Guid connectionId, int limit);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Connection {ConnectionId} could not keep up with its outbound frames; disconnected")]
    private static partial void LogTooSlow(ILogger logger, Guid connectionId);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Connection {ConnectionId} sends more than {PerSecond} frames per second; reading it at that rate")]
    private static partial void LogSlowed(ILogger logger, Guid connectionId, int perSecond);
}
