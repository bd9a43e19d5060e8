using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Parley.Load;

/// <summary>One WebSocket of the load: serialized sends, and a receive loop that hands each frame to <see cref="OnFrame"/>.</summary>
public sealed class Client : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private Task _receiving = Task.CompletedTask;

    /// <summary>Called on the receive loop, one frame at a time.</summary>
    public Action<JsonElement>? OnFrame { get; set; }

    public static async Task<Client> ConnectAsync(Uri uri, string? bearer, Action<JsonElement> onFrame, CancellationToken cancellationToken)
    {
        var client = new Client { OnFrame = onFrame };
        if (bearer is not null)
        {
            client._socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await client._socket.ConnectAsync(uri, cancellationToken);
        client._receiving = client.ReceiveLoopAsync();
        return client;
    }

    /// <summary>Completes when the server closed the socket (or it failed).</summary>
    public Task Closed => _receiving ?? Task.CompletedTask;

    public Task SendAsync(string json) => SendAsync(json, CancellationToken.None);

    /// <summary>Sends a frame; a cancelled send aborts the socket (as any cancelled WebSocket send does).</summary>
    public async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var (count, type) = await ReadMessageAsync(_socket, buffer);
                if (type == WebSocketMessageType.Close)
                {
                    return;
                }

                using var frame = JsonDocument.Parse(buffer.AsMemory(0, count));
                OnFrame?.Invoke(frame.RootElement);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    /// <summary>Reads one whole WebSocket message into <paramref name="buffer"/> (the load's frames are small).</summary>
    public static async Task<(int Count, WebSocketMessageType Type)> ReadMessageAsync(WebSocket socket, byte[] buffer)
    {
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return (count, result.MessageType);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Abort();
        await _receiving;
        _socket.Dispose();
        _sending.Dispose();
    }
}
