using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Conversations;
using Parley.Realtime;

namespace Parley.Server.Tests;

/// <summary>
/// The outbound side of one connection, against a WebSocket whose sends the test controls: order,
/// frames queued before the start, the wait for queued frames at the end, close, and the client
/// too slow to keep up.
/// </summary>
public sealed class RealtimeConnectionTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TestServer _server = fixture.Server;

    [Fact]
    public async Task Frames_are_written_in_the_order_queued_those_queued_before_the_start_first()
    {
        var socket = new ScriptedWebSocket();
        using var connection = Connection(socket, new RecordingLogger());
        connection.Send(Numbered(0));
        connection.Send(Numbered(1));

        using var dispatcher = Dispatcher();
        var run = connection.RunAsync(dispatcher, CancellationToken.None);
        for (var i = 2; i < 300; i++)
        {
            connection.Send(Numbered(i));
        }

        await socket.SentAtLeastAsync(300).WaitAsync(Patience);
        socket.PeerCloses();
        await run.WaitAsync(Patience);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => i.ToString()), socket.Sent.Select(MessageOf));
    }

    [Fact]
    public async Task The_connection_ends_only_once_what_was_queued_is_written()
    {
        var socket = new ScriptedWebSocket { SendDelay = TimeSpan.FromMilliseconds(20) };
        using var connection = Connection(socket, new RecordingLogger());
        using var dispatcher = Dispatcher();
        var run = connection.RunAsync(dispatcher, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            connection.Send(Numbered(i));
        }

        socket.PeerCloses();
        await run.WaitAsync(Patience);

        Assert.Equal(10, socket.Sent.Count);
    }

    [Fact]
    public async Task Nothing_is_written_after_a_close_frame()
    {
        var socket = new ScriptedWebSocket();
        using var connection = Connection(socket, new RecordingLogger());
        using var dispatcher = Dispatcher();
        var run = connection.RunAsync(dispatcher, CancellationToken.None);
        connection.Send(Numbered(0));
        connection.Close(WebSocketCloseStatus.PolicyViolation, "bye");
        connection.Send(Numbered(1));

        await socket.CloseSent.WaitAsync(Patience);
        connection.Send(Numbered(2));
        socket.PeerCloses();
        await run.WaitAsync(Patience);

        Assert.Equal(["0"], socket.Sent.Select(MessageOf));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task A_client_that_cannot_keep_up_is_disconnected()
    {
        var socket = new ScriptedWebSocket { SendsHang = true };
        var logger = new RecordingLogger();
        using var connection = Connection(socket, logger, queueLimit: 16);
        using var dispatcher = Dispatcher();
        var run = connection.RunAsync(dispatcher, CancellationToken.None);
        connection.Send(Numbered(0));
        await socket.SendStarted.WaitAsync(Patience); // the writer is stuck on frame 0

        for (var i = 1; i <= 16; i++)
        {
            connection.Send(Numbered(i)); // the queue's 16 places
        }

        Assert.False(run.IsCompleted);
        connection.Send(Numbered(17)); // one too many

        await run.WaitAsync(Patience); // ended by the abort, not by the peer
        Assert.Contains(3002, logger.EventIds);
        Assert.Empty(socket.Sent);
    }

    private static ErrorFrame Numbered(int i) => new(ErrorCodes.InvalidFrame, i.ToString(), false);

    private static string MessageOf(string json) => JsonDocument.Parse(json).RootElement.GetProperty("message").GetString()!;

    private RealtimeConnection Connection(WebSocket socket, ILogger logger, int queueLimit = 2048) =>
        new(socket, new RealtimeOptions { OutboundQueueLimit = queueLimit }, _server.Store, logger, caller: null, budget: null, TimeProvider.System);

    private FrameDispatcher Dispatcher() =>
        _server.Services.GetRequiredService<FrameDispatcherFactory>().Create(new RecordingLogger(), ParticipantRole.Consumer, TestServer.DemoDeployment);

    /// <summary>A WebSocket whose peer sends nothing until told to close, and whose sends the test can slow or hang.</summary>
    private sealed class ScriptedWebSocket : WebSocket
    {
        private readonly TaskCompletionSource _peerClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _sendStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closeSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _sent = [];
        private WebSocketState _state = WebSocketState.Open;
        private WebSocketCloseStatus? _closeStatus;

        public bool SendsHang { get; init; }

        public TimeSpan SendDelay { get; init; }

        public Task SendStarted => _sendStarted.Task;

        public Task CloseSent => _closeSent.Task;

        public IReadOnlyList<string> Sent
        {
            get
            {
                lock (_sent)
                {
                    return [.. _sent];
                }
            }
        }

        public async Task SentAtLeastAsync(int count)
        {
            while (Sent.Count < count)
            {
                await Task.Delay(10);
            }
        }

        public void PeerCloses() => _peerClosed.TrySetResult();

        public override WebSocketCloseStatus? CloseStatus => _closeStatus;

        public override string? CloseStatusDescription => null;

        public override WebSocketState State => _state;

        public override string? SubProtocol => null;

        public override void Abort() => _state = WebSocketState.Aborted;

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            _closeStatus = closeStatus;
            _state = _state == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent;
            _closeSent.TrySetResult();
            return Task.CompletedTask;
        }

        public override void Dispose()
        {
        }

        public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
        {
            var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
            return new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
        }

        public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            await _peerClosed.Task.WaitAsync(cancellationToken);
            _state = _state == WebSocketState.CloseSent ? WebSocketState.Closed : WebSocketState.CloseReceived;
            return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

        public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            _sendStarted.TrySetResult();
            if (SendsHang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            await Task.Delay(SendDelay, cancellationToken);
            lock (_sent)
            {
                _sent.Add(System.Text.Encoding.UTF8.GetString(buffer.Span));
            }
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        private readonly List<int> _eventIds = [];

        public IReadOnlyList<int> EventIds
        {
            get
            {
                lock (_eventIds)
                {
                    return [.. _eventIds];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_eventIds)
            {
                _eventIds.Add(eventId.Id);
            }
        }
    }
}
