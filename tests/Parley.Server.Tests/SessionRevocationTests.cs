using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace Parley.Server.Tests;

/// <summary>
/// A session that ends ends everywhere, open sockets included: an agent who signs out, an agent
/// whose sign-in expires, and a device whose history is cleared keep no working connection.
/// </summary>
public sealed class SessionRevocationTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    /// <summary>The connection is told <c>authentication_expired</c>, then closed (1008); nothing it sends later is answered.</summary>
    internal static async Task AssertEndedAsync(WsClient socket)
    {
        await socket.ExpectAsync("error", f => f.GetProperty("code").GetString() == "authentication_expired");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await socket.ClosedAsync());
    }

    [Fact]
    public async Task Signing_out_closes_the_agents_open_socket_and_it_can_do_nothing_more()
    {
        var (_, token) = await Server.NewAgentAsync(Demo.DemoOptions.TenantId);
        await using var console = await Server.AgentAsync(token);
        await console.SendAsync(new { type = "conversations.list", requestId = "before" });
        await console.NextAsync(f => f.TryGetProperty("requestId", out var r) && r.GetString() == "before");
        await using var other = await Server.AgentAsync((await Server.NewAgentAsync(Demo.DemoOptions.TenantId)).Token);

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/logout");
        logout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.NoContent, (await Server.Http.SendAsync(logout)).StatusCode);

        await AssertEndedAsync(console);
        // Another agent's console is not touched.
        await other.SendAsync(new { type = "ping", requestId = "still-here" });
        await other.ExpectAsync("pong");
    }

    [Fact]
    public async Task Clearing_history_on_one_socket_ends_the_devices_other_sockets()
    {
        var visitor = await Server.NewVisitorAsync();
        await using var first = await Server.ConsumerAsync(visitor);
        await using var second = await Server.ConsumerAsync(visitor);
        await using var otherVisitor = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        await first.SendAsync(new { type = "conversation.start" });
        var conversationId = (await first.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

        await first.SendAsync(new { type = "history.clear", conversationId });
        await first.ExpectAsync("history.cleared");

        await AssertEndedAsync(second);
        await otherVisitor.SendAsync(new { type = "ping" });
        await otherVisitor.ExpectAsync("pong");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/consumer/conversations");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", visitor);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task An_agents_socket_ends_when_the_sign_in_expires()
    {
        await using var server = await TestServer.StartAsync("--Parley:AgentSessionLifetime=00:00:02");
        await using var console = await server.AgentAsync(await server.AgentTokenAsync());

        await AssertEndedAsync(console);
    }

    [Fact]
    public async Task An_idle_agent_console_whose_session_ended_unannounced_is_closed_by_its_own_recheck()
    {
        await using var server = await TestServer.StartAsync("--Parley:Realtime:SessionRecheckInterval=00:00:01");
        var token = await server.AgentTokenAsync();
        await using var console = await server.AgentAsync(token);
        await server.Store.DeleteAgentSessionAsync(Security.OpaqueToken.Hash(token), CancellationToken.None);

        await AssertEndedAsync(console); // no frame sent: the console's timer finds out
    }

    [Fact]
    public async Task A_visitor_session_ended_where_this_node_was_not_told_is_found_at_the_next_frame_after_the_recheck_interval()
    {
        // The backstop for a notification lost between nodes: the session is deleted behind the
        // connection's back, as another node's history.clear does when its NOTIFY never arrives.
        await using var server = await TestServer.StartAsync("--Parley:Realtime:SessionRecheckInterval=00:00:01");
        var token = await server.NewVisitorAsync();
        await using var socket = await server.ConsumerAsync(token);
        await server.Store.DeleteConsumerSessionAsync(Security.OpaqueToken.Hash(token), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        await socket.SendAsync(new { type = "ping", requestId = "after" });

        await AssertEndedAsync(socket);
    }
}
