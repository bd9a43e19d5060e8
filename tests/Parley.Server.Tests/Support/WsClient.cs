using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Parley.Server.Tests;

/// <summary>A real WebSocket client: frames out as JSON, frames in collected by a background loop.</summary>
public sealed class WsClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly Task _receiving;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly List<JsonElement> _unread = [];

    private WsClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
    }

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    public WebSocketState State => _socket.State;

    public static async Task<WsClient> ConnectAsync(Uri uri, string? bearer = null, string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {bearer}");
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        await socket.ConnectAsync(uri, CancellationToken.None);
        return new WsClient(socket);
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.Serialize(frame, JsonSerializerOptions.Web));

    public async Task SendRawAsync(string text)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The oldest unread frame of this type (matching <paramref name="where"/>); other frames stay unread.</summary>
    public Task<JsonElement> ExpectAsync(string type, Func<JsonElement, bool>? where = null, TimeSpan? wait = null) =>
        NextAsync(f => f.GetProperty("type").GetString() == type && (where?.Invoke(f) ?? true), wait);

    /// <summary>The oldest unread frame that matches; frames that do not match stay unread for later calls.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        while (true)
        {
            while (_frames.Reader.TryRead(out var arrived))
            {
                _unread.Add(arrived);
            }

            var index = _unread.FindIndex(f => match(f));
            if (index >= 0)
            {
                var frame = _unread[index];
                _unread.RemoveAt(index);
                return frame;
            }

            try
            {
                if (!await _frames.Reader.WaitToReadAsync(timeout.Token))
                {
                    throw new InvalidOperationException($"The socket closed ({_socket.CloseStatus}) before the expected frame arrived.");
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException(
                    "The expected frame did not arrive. Unread: " + string.Join(" | ", _unread.Select(f => f.GetRawText()[..Math.Min(200, f.GetRawText().Length)])));
            }
        }
    }

    /// <summary>Every unread frame plus those arriving within the wait (for asserting that nothing more arrives).</summary>
    public async Task<List<JsonElement>> DrainAsync(TimeSpan wait)
    {
        await Task.Delay(wait);
        while (_frames.Reader.TryRead(out var arrived))
        {
            _unread.Add(arrived);
        }

        var frames = _unread.ToList();
        _unread.Clear();
        return frames;
    }

    /// <summary>Waits until the server closes the socket.</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync(TimeSpan? wait = null)
    {
        await _receiving.WaitAsync(wait ?? DefaultWait);
        return _socket.CloseStatus;
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answer the close, as browsers do.
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    break;
                }

                using var document = JsonDocument.Parse(buffer.AsMemory(0, count));
                await _frames.Writer.WriteAsync(document.RootElement.Clone());
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
        _sendLock.Dispose();
    }
}
