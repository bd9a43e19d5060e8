using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Parley.Realtime;

/// <summary>
/// The node's open WebSockets. When the node is asked to stop (SIGTERM, a deploy), each is closed
/// at once with 1001 (going away) and a reason that says to reconnect, so clients move to another
/// node (or wait for this one) instead of hanging until the shutdown timeout drops them with 1006.
/// Messages in flight are still acknowledged: a connection drains its sends before it ends.
/// </summary>
internal sealed class LiveConnections : IDisposable
{
    public const string StoppingReason = "server restarting: reconnect";

    private readonly ConcurrentDictionary<Guid, RealtimeConnection> _open = new();
    private readonly CancellationTokenRegistration _stopping;
    private volatile bool _closing;

    public LiveConnections(IHostApplicationLifetime lifetime)
    {
        _stopping = lifetime.ApplicationStopping.Register(CloseAll);
    }

    /// <summary>Counts a connection in until the returned handle is disposed; one that opens while the node stops is closed at once.</summary>
    public IDisposable Add(RealtimeConnection connection)
    {
        _open[connection.ConnectionId] = connection;
        if (_closing)
        {
            connection.Close(WebSocketCloseStatus.EndpointUnavailable, StoppingReason);
        }

        return new Removal(this, connection.ConnectionId);
    }

    private void CloseAll()
    {
        _closing = true;
        foreach (var connection in _open.Values)
        {
            connection.Close(WebSocketCloseStatus.EndpointUnavailable, StoppingReason);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private sealed class Removal(LiveConnections connections, Guid connectionId) : IDisposable
    {
        public void Dispose() => connections._open.TryRemove(connectionId, out _);
    }
}
