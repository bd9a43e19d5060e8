namespace Parley.Realtime;

/// <summary>The <c>Parley:Realtime</c> section: the WebSocket limits (see docs/protocol.md).</summary>
public sealed class RealtimeOptions
{
    public const string Section = "Parley:Realtime";

    /// <summary>Largest inbound frame; a larger one closes the socket with 1009 (message too big).</summary>
    public int MaxFrameBytes { get; set; } = 32 * 1024;

    /// <summary>Time a connection has to authenticate (header, cookie or <c>auth</c> frame) before it is closed.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>WebSocket ping interval keeping idle connections (and proxies) alive.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a ping may go unanswered before the connection is dropped: a visitor whose device
    /// went away without closing (sleep, lost network) does not hold a socket for hours. Browsers
    /// answer pings by themselves; zero turns the check off.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Outbound frames a connection may have queued; a client slower than this is disconnected and resumes by seq.</summary>
    public int OutboundQueueLimit { get; set; } = 2048;

    /// <summary>Messages read from storage per page when replaying after <c>since</c>.</summary>
    public int ReplayPageSize { get; set; } = 200;

    /// <summary>Sends one connection may have waiting for their acknowledgement; more wait in the socket (TCP pushes back).</summary>
    public int MaxSendsInFlight { get; set; } = 256;

    /// <summary>How long a closing connection waits for its sends in flight, so that their acknowledgements are queued before it ends.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a connection Parley closes waits for the peer's close frame before it is dropped.</summary>
    public TimeSpan CloseHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often, at most, a connection's next frame re-reads its session from storage. A session
    /// ended elsewhere closes its connections at once through the live fan-out; this is the backstop
    /// for a notification lost between nodes.
    /// </summary>
    public TimeSpan SessionRecheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}
