using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Parley.Agents;
using Parley.Demo;
using Parley.Storage.Postgres;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Several Parley nodes, each a separate process on a loopback port, on one real PostgreSQL:
/// live traffic crosses nodes through LISTEN/NOTIFY, and nothing acknowledged is lost when a node
/// is killed or the database restarts.
/// </summary>
public sealed class MultiNodeTests : IAsyncLifetime
{
    private static readonly Guid Deployment = DemoOptions.DeploymentId;
    private readonly List<ServerProcess> _nodes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-nodes-" + Guid.NewGuid().ToString("N"));
    private PostgresServer _postgres = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _postgres = await PostgresServer.StartAsync();
        _connectionString = await _postgres.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await _postgres.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Starts <paramref name="count"/> nodes: the first alone (it creates the schema and the demo brand), the others together.</summary>
    private async Task<IReadOnlyList<ServerProcess>> NodesAsync(int count, params string[] settings)
    {
        ServerProcess Node() => new(
            _directory,
            [
                "--Parley:Storage:Provider=postgres",
                $"--Parley:Storage:Postgres:ConnectionString={_connectionString}",
                $"--Parley:DataProtection:KeysPath={Path.Combine(_directory, "keys")}",
                .. settings,
            ]);
        var first = Node();
        _nodes.Add(first);
        await first.StartAsync();
        var others = Enumerable.Range(1, count - 1).Select(_ => Node()).ToList();
        _nodes.AddRange(others);
        await Task.WhenAll(others.Select(n => n.StartAsync()));
        return [first, .. others];
    }

    private static Uri Ws(ServerProcess node, string path) => new($"ws://127.0.0.1:{node.Port}{path}");

    /// <summary>A visitor on <paramref name="node"/> with a started, subscribed conversation.</summary>
    private static async Task<(WsClient Socket, Guid ConversationId)> VisitorAsync(ServerProcess node)
    {
        using var http = new HttpClient { BaseAddress = node.Address };
        var session = await (await http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = Deployment })).Content.ReadFromJsonAsync<JsonElement>();
        var socket = await WsClient.ConnectAsync(Ws(node, $"/ws/consumer?deploymentId={Deployment}"));
        await socket.SendAsync(new { type = "auth", token = session.GetProperty("visitorToken").GetString() });
        await socket.ExpectAsync("ready");
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        await socket.ExpectAsync("subscribed");
        return (socket, conversationId);
    }

    private static async Task<string> LogInAsync(ServerProcess node, string email = DemoOptions.AgentEmail)
    {
        using var http = new HttpClient { BaseAddress = node.Address };
        var response = await http.PostAsJsonAsync("/api/v1/agent/login", new { email, password = "parley-demo" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>An agent's console on <paramref name="node"/>, watching the conversation from <paramref name="since"/>.</summary>
    private static async Task<WsClient> AgentAsync(ServerProcess node, string token, Guid conversationId, long since = 0)
    {
        var socket = await WsClient.ConnectAsync(Ws(node, "/ws/agent"), token);
        await socket.ExpectAsync("ready");
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since });
        await socket.ExpectAsync("subscribed");
        return socket;
    }

    private static async Task<long> SendAsync(WsClient socket, Guid conversationId, string text)
    {
        await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = text, text });
        var ack = await socket.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error"
            && f.GetProperty("clientMessageId").GetString() == text, TimeSpan.FromSeconds(30));
        Assert.Equal("message.ack", ack.GetProperty("type").GetString());
        return ack.GetProperty("seq").GetInt64();
    }

    private static async Task<JsonElement> ReceiveAsync(WsClient socket, string text) =>
        (await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == text)).GetProperty("message");

    [Fact]
    public async Task Signing_out_on_one_node_closes_the_agents_console_on_another()
    {
        var nodes = await NodesAsync(2);
        var token = await LogInAsync(nodes[0]);
        await using var console = await WsClient.ConnectAsync(Ws(nodes[1], "/ws/agent"), token);
        await console.ExpectAsync("ready");

        using var http = new HttpClient { BaseAddress = nodes[0].Address };
        using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/v1/agent/logout");
        logout.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.SendAsync(logout)).StatusCode);

        // Told through LISTEN/NOTIFY, not by the recheck (30 s by default): well within seconds.
        await SessionRevocationTests.AssertEndedAsync(console);
    }

    [Fact]
    public async Task A_consumer_on_one_node_and_an_agent_on_another_converse_with_receipts_and_typing()
    {
        var nodes = await NodesAsync(2);
        var (consumer, conversationId) = await VisitorAsync(nodes[0]);
        await using var _ = consumer;
        await using var agent = await AgentAsync(nodes[1], await LogInAsync(nodes[1]), conversationId);
        await agent.SendAsync(new { type = "conversation.accept", conversationId });
        await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("assignedAgentId").ValueKind == JsonValueKind.String);

        // The consumer on node A learns, from node B, that an agent has the conversation.
        await consumer.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("agentAssigned").GetBoolean());

        var hello = await SendAsync(consumer, conversationId, "hello from node A");
        Assert.Equal(hello, (await ReceiveAsync(agent, "hello from node A")).GetProperty("seq").GetInt64());

        await agent.SendAsync(new { type = "typing", conversationId, isTyping = true });
        var typing = await consumer.ExpectAsync("typing");
        Assert.Equal("agent", typing.GetProperty("role").GetString());
        Assert.True(typing.GetProperty("isTyping").GetBoolean());

        var reply = await SendAsync(agent, conversationId, "hello from node B");
        Assert.Equal(reply, (await ReceiveAsync(consumer, "hello from node B")).GetProperty("seq").GetInt64());

        await consumer.SendAsync(new { type = "receipt", conversationId, deliveredSeq = reply, readSeq = reply });
        var receipt = (await agent.ExpectAsync("receipt", f => f.GetProperty("receipt").GetProperty("role").GetString() == "consumer"
            && f.GetProperty("receipt").GetProperty("readSeq").GetInt64() == reply)).GetProperty("receipt");
        Assert.Equal(reply, receipt.GetProperty("deliveredSeq").GetInt64());
    }

    [Fact]
    public async Task Visitors_sending_at_once_through_parallel_writers_get_each_message_stored_once_in_the_order_they_sent_it()
    {
        // Four group-commit writers (PostgreSQL's default) with batches of 4, so that conversations
        // spread over the writers at once: a conversation's messages must still be stored in the
        // order its visitor sent them, each once, whichever writer has it.
        var node = (await NodesAsync(1, "--Parley:Storage:Writers=4", "--Parley:Storage:MaxBatchSize=4"))[0];
        var visitors = new List<(WsClient Socket, Guid ConversationId)>();
        for (var i = 0; i < 12; i++)
        {
            visitors.Add(await VisitorAsync(node));
        }

        await Task.WhenAll(visitors.Select(async visitor =>
        {
            var (socket, conversationId) = visitor;
            for (var i = 0; i < 30; i++)
            {
                await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = $"m-{i:00}", text = $"message {i}" });
            }

            var seqs = new Dictionary<string, long>();
            for (var i = 0; i < 30; i++)
            {
                var ack = await socket.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error", TimeSpan.FromSeconds(30));
                Assert.Equal("message.ack", ack.GetProperty("type").GetString());
                seqs.Add(ack.GetProperty("clientMessageId").GetString()!, ack.GetProperty("seq").GetInt64());
            }

            var inSendOrder = seqs.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value).ToList();
            Assert.Equal(inSendOrder.Order(), inSendOrder);
            Assert.Equal(30, inSendOrder.Distinct().Count());
            await socket.DisposeAsync();
        }));

        await using var store = new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = _connectionString });
        foreach (var (_, conversationId) in visitors)
        {
            var stored = await store.GetMessagesAsync(conversationId, 0, 500, CancellationToken.None);
            Assert.Equal(
                Enumerable.Range(0, 30).Select(i => $"m-{i:00}"),
                stored.Where(m => m.ClientMessageId is not null).Select(m => m.ClientMessageId));
        }
    }

    [Fact]
    public async Task Agents_on_three_nodes_accepting_at_the_same_moment_get_each_conversation_exactly_once()
    {
        var nodes = await NodesAsync(3);
        var tenantId = DemoOptions.TenantId;
        await using var store = new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = _connectionString });
        var hasher = new PasswordHasher<Agent>();
        var tokens = new List<string>();
        foreach (var node in nodes)
        {
            var agent = new Agent(Guid.NewGuid(), tenantId, $"node-agent-{Guid.NewGuid():N}@demo.parley.test", "Node agent", "", AgentRole.Agent, 10, DateTimeOffset.UtcNow);
            await store.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, "parley-demo") }, CancellationToken.None);
            tokens.Add(await LogInAsync(node, agent.Email));
        }

        for (var round = 0; round < 5; round++)
        {
            var (consumer, conversationId) = await VisitorAsync(nodes[round % 3]);
            await using var _ = consumer;
            var responses = await Task.WhenAll(nodes.Select((node, i) => Task.Run(async () =>
            {
                using var http = new HttpClient { BaseAddress = node.Address };
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/agent/conversations/{conversationId}/accept");
                request.Headers.Authorization = new("Bearer", tokens[i]);
                return (await http.SendAsync(request)).StatusCode;
            })));

            Assert.Equal(1, responses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(2, responses.Count(s => s == HttpStatusCode.Conflict));
        }
    }

    [Fact]
    public async Task Killing_a_node_loses_nothing_and_its_agent_carries_on_from_another()
    {
        var nodes = await NodesAsync(3);
        var (consumer, conversationId) = await VisitorAsync(nodes[0]);
        await using var _ = consumer;
        var token = await LogInAsync(nodes[1]);
        var onB = await AgentAsync(nodes[1], token, conversationId);
        await onB.SendAsync(new { type = "conversation.accept", conversationId });
        var first = await SendAsync(consumer, conversationId, "before the crash");
        Assert.Equal(first, (await ReceiveAsync(onB, "before the crash")).GetProperty("seq").GetInt64());

        await nodes[1].KillAsync();
        await onB.DisposeAsync();
        var whileDown = new[] { await SendAsync(consumer, conversationId, "while B is down 1"), await SendAsync(consumer, conversationId, "while B is down 2") };

        // The agent reconnects to node C from the last seq it saw: the gap arrives in order, then live traffic.
        await using var onC = await AgentAsync(nodes[2], token, conversationId, since: first);
        Assert.Equal(whileDown[0], (await ReceiveAsync(onC, "while B is down 1")).GetProperty("seq").GetInt64());
        Assert.Equal(whileDown[1], (await ReceiveAsync(onC, "while B is down 2")).GetProperty("seq").GetInt64());
        var live = await SendAsync(consumer, conversationId, "after the move");
        Assert.Equal(live, (await ReceiveAsync(onC, "after the move")).GetProperty("seq").GetInt64());
        var reply = await SendAsync(onC, conversationId, "still here, from node C");
        Assert.Equal(reply, (await ReceiveAsync(consumer, "still here, from node C")).GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Restarting_postgres_mid_conversation_loses_no_acknowledged_message_and_the_nodes_recover_on_their_own()
    {
        var nodes = await NodesAsync(2);
        var (consumer, conversationId) = await VisitorAsync(nodes[0]);
        await using var _ = consumer;
        await using var agent = await AgentAsync(nodes[1], await LogInAsync(nodes[1]), conversationId);
        await agent.SendAsync(new { type = "conversation.accept", conversationId });
        await SendAsync(consumer, conversationId, "before");
        await ReceiveAsync(agent, "before");

        await _postgres.StopAsync();
        await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "during", text = "during" });
        var refused = await consumer.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error", TimeSpan.FromSeconds(30));
        Assert.Equal(("error", "storage_unavailable", true),
            (refused.GetProperty("type").GetString(), refused.GetProperty("code").GetString(), refused.GetProperty("retryable").GetBoolean()));
        await _postgres.RestartAsync();

        // The client retries, as a retryable error tells it to; the nodes reconnect by themselves.
        for (var attempt = 0; ; attempt++)
        {
            await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "during", text = "during" });
            var answer = await consumer.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error", TimeSpan.FromSeconds(30));
            if (answer.GetProperty("type").GetString() == "message.ack")
            {
                break;
            }

            Assert.True(attempt < 40, "The node did not recover within 10 seconds of the restart.");
            await Task.Delay(250);
        }

        await ReceiveAsync(agent, "during");
        await SendAsync(consumer, conversationId, "after");
        await ReceiveAsync(agent, "after");

        await using var store = new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = _connectionString });
        var texts = (await store.GetMessagesAsync(conversationId, 0, 100, CancellationToken.None))
            .Where(m => m.Kind == Conversations.MessageKind.Text).Select(m => m.Text).ToList();
        Assert.Equal(["before", "during", "after"], texts);
    }
}
