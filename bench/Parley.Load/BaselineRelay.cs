using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Parley.Load;

/// <summary>
/// The "physical limit": a minimal Kestrel WebSocket relay speaking the same frames as Parley for
/// what the load uses (sessions, agent login, auth, start, subscribe, send → ack + delivery,
/// assignment to the least-loaded agent), with no authentication, no storage and no checks.
/// </summary>
public static class BaselineRelay
{
    private sealed class Conversation(Guid id)
    {
        public Guid Id { get; } = id;

        public long Seq;

        public ImmutableWatchers Watchers = new([]);
    }

    private sealed record ImmutableWatchers(Peer[] Items);

    private sealed class Peer(WebSocket socket, Guid id)
    {
        private readonly Channel<byte[]> _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4096) { SingleReader = true });

        public Guid Id { get; } = id;

        public int Load;

        public bool TrySend(byte[] frame) => _outbound.Writer.TryWrite(frame);

        public void Complete() => _outbound.Writer.TryComplete();

        public async Task WriteLoopAsync()
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync())
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }
    }

    private static readonly ConcurrentDictionary<Guid, Conversation> Conversations = new();
    private static readonly ConcurrentDictionary<Guid, Peer> Agents = new();

    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/readyz", () => Results.Ok());
        app.MapPost("/api/v1/sessions", () => Results.Json(new { visitorToken = Guid.NewGuid().ToString("N"), consumerId = Guid.NewGuid() }));
        app.MapPost("/api/v1/agent/login", () =>
        {
            var id = Guid.NewGuid();
            return Results.Json(new { token = id.ToString("N"), agent = new { id } });
        });
        app.Map("/ws/consumer", (HttpContext context) => ServeAsync(context, agent: false));
        app.Map("/ws/agent", (HttpContext context) => ServeAsync(context, agent: true));
        await app.RunAsync();
    }

    private static async Task ServeAsync(HttpContext context, bool agent)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        // An agent's token is their id; a consumer gets a new one.
        var bearer = context.Request.Headers.Authorization.ToString();
        var peer = new Peer(socket, agent && Guid.TryParse(bearer.AsSpan(bearer.IndexOf(' ') + 1), out var id) ? id : Guid.NewGuid());
        var writer = peer.WriteLoopAsync();
        var role = agent ? "agent" : "consumer";
        if (agent)
        {
            Agents[peer.Id] = peer;
            peer.TrySend(Frame(new { type = "ready", role, participantId = peer.Id }));
        }

        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var (count, type) = await Client.ReadMessageAsync(socket, buffer);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }

                Handle(peer, role, JsonDocument.Parse(buffer.AsMemory(0, count)).RootElement);
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            Agents.TryRemove(peer.Id, out _);
            peer.Complete();
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static void Handle(Peer peer, string role, JsonElement frame)
    {
        switch (frame.GetProperty("type").GetString())
        {
            case "auth":
                peer.TrySend(Frame(new { type = "ready", role, participantId = peer.Id }));
                break;
            case "conversation.start":
                var conversation = new Conversation(Guid.NewGuid());
                Conversations[conversation.Id] = conversation;
                peer.TrySend(Frame(new { type = "conversation", conversation = new { id = conversation.Id, status = "open" } }));
                if (Agents.Values.MinBy(a => a.Load) is { } agent)
                {
                    Interlocked.Increment(ref agent.Load);
                    agent.TrySend(Frame(new { type = "conversation.updated", conversation = new { id = conversation.Id, assignedAgentId = agent.Id } }));
                }

                break;
            case "conversation.subscribe":
                var watched = Conversations[frame.GetProperty("conversationId").GetGuid()];
                lock (watched)
                {
                    watched.Watchers = new([.. watched.Watchers.Items, peer]);
                }

                peer.TrySend(Frame(new { type = "subscribed", conversationId = watched.Id, since = 0, lastSeq = watched.Seq }));
                break;
            case "message.send":
                var target = Conversations[frame.GetProperty("conversationId").GetGuid()];
                var clientMessageId = frame.GetProperty("clientMessageId").GetString();
                var seq = Interlocked.Increment(ref target.Seq);
                var sentAt = DateTimeOffset.UtcNow;
                peer.TrySend(Frame(new { type = "message.ack", conversationId = target.Id, clientMessageId, seq, sentAt, duplicate = false }));
                var message = Frame(new
                {
                    type = "message",
                    message = new
                    {
                        conversationId = target.Id, seq, kind = "text", senderRole = role, senderId = peer.Id, clientMessageId,
                        text = frame.GetProperty("text").GetString(), sentAt,
                    },
                });
                foreach (var watcher in target.Watchers.Items)
                {
                    watcher.TrySend(message);
                }

                break;
        }
    }

    private static byte[] Frame<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, JsonSerializerOptions.Web);
}
