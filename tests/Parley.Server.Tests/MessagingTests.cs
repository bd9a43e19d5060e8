using System.Net.Http.Json;
using System.Text.Json;

namespace Parley.Server.Tests;

public sealed class MessagingTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    private static string Id() => Guid.NewGuid().ToString("N");

    private static async Task<Guid> StartConversationAsync(WsClient consumer, object? attributes = null)
    {
        var requestId = Id();
        await consumer.SendAsync(new { type = "conversation.start", requestId, attributes });
        var reply = await consumer.ExpectAsync("conversation", f => f.TryGetProperty("requestId", out var r) && r.GetString() == requestId);
        return reply.GetProperty("conversation").GetProperty("id").GetGuid();
    }

    private static async Task SubscribeAsync(WsClient client, Guid conversationId, long since = 0)
    {
        await client.SendAsync(new { type = "conversation.subscribe", conversationId, since });
        await client.ExpectAsync("subscribed", f => f.GetProperty("conversationId").GetGuid() == conversationId);
    }

    private static async Task<JsonElement> SendAsync(WsClient client, Guid conversationId, string text, string? clientMessageId = null)
    {
        clientMessageId ??= Id();
        await client.SendAsync(new { type = "message.send", conversationId, clientMessageId, text });
        return await client.NextAsync(f =>
            f.GetProperty("type").GetString() is "message.ack" or "error"
            && f.TryGetProperty("clientMessageId", out var c) && c.GetString() == clientMessageId);
    }

    private async Task<(WsClient Consumer, WsClient Agent, Guid ConversationId)> AcceptedConversationAsync()
    {
        var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);
        await SubscribeAsync(consumer, conversationId);
        // An agent of its own: the demo agent holds the conversations other tests of this class
        // left open, and a test that needs the agent to have room (a resume) must not depend on them.
        var agent = await Server.AgentAsync((await Server.NewAgentAsync(Demo.DemoOptions.TenantId)).Token);
        await agent.SendAsync(new { type = "conversation.accept", conversationId });
        await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("assignedAgentId").ValueKind == JsonValueKind.String);
        await SubscribeAsync(agent, conversationId);
        return (consumer, agent, conversationId);
    }

    [Fact]
    public async Task Messages_flow_consumer_to_agent_and_back_with_receipts()
    {
        var (consumer, agent, conversationId) = await AcceptedConversationAsync();
        await using var _ = consumer;
        await using var __ = agent;

        var ack = await SendAsync(consumer, conversationId, "Hello, I need help");
        Assert.Equal("message.ack", ack.GetProperty("type").GetString());
        var seq = ack.GetProperty("seq").GetInt64();
        var received = await agent.ExpectAsync("message", f => f.GetProperty("message").GetProperty("seq").GetInt64() == seq);
        Assert.Equal("Hello, I need help", received.GetProperty("message").GetProperty("text").GetString());
        Assert.Equal("consumer", received.GetProperty("message").GetProperty("senderRole").GetString());

        await agent.SendAsync(new { type = "receipt", conversationId, deliveredSeq = seq, readSeq = seq });
        var receipt = await consumer.ExpectAsync("receipt", f => f.GetProperty("receipt").GetProperty("role").GetString() == "agent");
        Assert.Equal(seq, receipt.GetProperty("receipt").GetProperty("readSeq").GetInt64());

        var reply = await SendAsync(agent, conversationId, "Sure, how can I help?");
        var replySeq = reply.GetProperty("seq").GetInt64();
        Assert.Equal(seq + 1, replySeq);
        var atConsumer = await consumer.ExpectAsync("message", f => f.GetProperty("message").GetProperty("seq").GetInt64() == replySeq);
        Assert.Equal("agent", atConsumer.GetProperty("message").GetProperty("senderRole").GetString());

        await consumer.SendAsync(new { type = "receipt", conversationId, deliveredSeq = replySeq, readSeq = 0 });
        var delivered = await agent.ExpectAsync("receipt", f => f.GetProperty("receipt").GetProperty("role").GetString() == "consumer");
        Assert.Equal(replySeq, delivered.GetProperty("receipt").GetProperty("deliveredSeq").GetInt64());
        Assert.Equal(0, delivered.GetProperty("receipt").GetProperty("readSeq").GetInt64());
    }

    [Fact]
    public async Task Typing_indicators_reach_the_other_side_only()
    {
        var (consumer, agent, conversationId) = await AcceptedConversationAsync();
        await using var _ = consumer;
        await using var __ = agent;

        await consumer.SendAsync(new { type = "typing", conversationId, isTyping = true });
        var typing = await agent.ExpectAsync("typing");
        Assert.True(typing.GetProperty("isTyping").GetBoolean());
        Assert.Equal("consumer", typing.GetProperty("role").GetString());
        await consumer.SendAsync(new { type = "ping" });
        await consumer.ExpectAsync("pong");
        Assert.DoesNotContain(await consumer.DrainAsync(TimeSpan.FromMilliseconds(200)), f => f.GetProperty("type").GetString() == "typing");
    }

    [Fact]
    public async Task Resending_a_client_message_id_returns_the_original_ack_and_stores_nothing_new()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);

        var first = await SendAsync(consumer, conversationId, "only once", "client-1");
        var again = await SendAsync(consumer, conversationId, "only once", "client-1");

        Assert.False(first.GetProperty("duplicate").GetBoolean());
        Assert.True(again.GetProperty("duplicate").GetBoolean());
        Assert.Equal(first.GetProperty("seq").GetInt64(), again.GetProperty("seq").GetInt64());
        var stored = await Server.Store.GetMessagesAsync(conversationId, 0, 100, CancellationToken.None);
        Assert.Single(stored, m => m.ClientMessageId == "client-1");
    }

    [Fact]
    public async Task A_reconnecting_client_gets_every_later_message_once_and_in_order()
    {
        var visitor = await Server.NewVisitorAsync();
        Guid conversationId;
        long lastSeen;
        await using (var first = await Server.ConsumerAsync(visitor))
        {
            conversationId = await StartConversationAsync(first);
            await SubscribeAsync(first, conversationId);
            for (var i = 0; i < 5; i++)
            {
                await SendAsync(first, conversationId, $"before {i}");
            }

            lastSeen = (await first.ExpectAsync("message", f => f.GetProperty("message").GetProperty("seq").GetInt64() == 3))
                .GetProperty("message").GetProperty("seq").GetInt64();
        }

        // While the first device is away, another connection of the same visitor keeps sending.
        await using (var other = await Server.ConsumerAsync(visitor))
        {
            for (var i = 0; i < 4; i++)
            {
                await SendAsync(other, conversationId, $"while away {i}");
            }
        }

        await using var back = await Server.ConsumerAsync(visitor);
        await back.SendAsync(new { type = "conversation.subscribe", conversationId, since = lastSeen });
        var live = Task.Run(async () =>
        {
            await using var sender = await Server.ConsumerAsync(visitor);
            for (var i = 0; i < 10; i++)
            {
                await SendAsync(sender, conversationId, $"live {i}");
            }
        });
        await live;

        var seqs = new List<long>();
        while (seqs.Count < 16)
        {
            var frame = await back.ExpectAsync("message");
            seqs.Add(frame.GetProperty("message").GetProperty("seq").GetInt64());
        }

        Assert.Equal(Enumerable.Range(4, 16).Select(i => (long)i), seqs);
        Assert.DoesNotContain(await back.DrainAsync(TimeSpan.FromMilliseconds(300)), f => f.GetProperty("type").GetString() == "message");
    }

    [Fact]
    public async Task Pipelined_sends_are_all_acknowledged_in_order()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);

        var ids = Enumerable.Range(0, 50).Select(i => $"p-{i}").ToList();
        foreach (var id in ids)
        {
            await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = id, text = id });
        }

        var acks = new Dictionary<string, long>();
        while (acks.Count < ids.Count)
        {
            var ack = await consumer.ExpectAsync("message.ack");
            acks[ack.GetProperty("clientMessageId").GetString()!] = ack.GetProperty("seq").GetInt64();
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), ids.Select(id => acks[id]));
    }

    [Fact]
    public async Task Another_consumers_conversation_looks_exactly_like_a_missing_one()
    {
        await using var owner = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(owner);
        await using var stranger = await Server.ConsumerAsync(await Server.NewVisitorAsync());

        await stranger.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        var foreign = await stranger.ExpectAsync("error");
        var missing = await SendAsync(stranger, Guid.NewGuid(), "hello?");
        var sent = await SendAsync(stranger, conversationId, "let me in");

        Assert.Equal("not_found", foreign.GetProperty("code").GetString());
        Assert.Equal("not_found", missing.GetProperty("code").GetString());
        Assert.Equal("not_found", sent.GetProperty("code").GetString());
        Assert.Equal(foreign.GetProperty("message").GetString(), missing.GetProperty("message").GetString());
        Assert.Empty(await Server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None));
    }

    [Fact]
    public async Task An_agent_of_another_tenant_cannot_see_or_accept_the_conversation()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);
        var (_, otherAgentEmail) = await Server.NewTenantAsync();
        var otherToken = await Server.AgentTokenAsync(otherAgentEmail);
        await using var otherAgent = await Server.AgentAsync(otherToken);

        await otherAgent.SendAsync(new { type = "conversation.accept", conversationId });
        Assert.Equal("not_found", (await otherAgent.ExpectAsync("error")).GetProperty("code").GetString());
        await otherAgent.SendAsync(new { type = "conversations.list" });
        var list = await otherAgent.ExpectAsync("conversations");
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), c => c.GetProperty("id").GetGuid() == conversationId);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/conversations/{conversationId}/messages");
        request.Headers.Authorization = new("Bearer", otherToken);
        var response = await Server.Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_visitor_token_of_another_tenants_deployment_is_refused()
    {
        var (otherDeployment, _) = await Server.NewTenantAsync();
        var otherVisitor = await Server.NewVisitorAsync(otherDeployment);

        await using var client = await WsClient.ConnectAsync(Server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}"));
        await client.SendAsync(new { type = "auth", token = otherVisitor });
        Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, await client.ClosedAsync());
    }

    [Fact]
    public async Task Only_one_of_two_agents_accepting_at_once_gets_the_conversation()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);
        await using var agent = await Server.AgentAsync(await Server.AgentTokenAsync());
        await using var admin = await Server.AgentAsync(await Server.AgentTokenAsync(Demo.DemoOptions.AdminEmail));

        await Task.WhenAll(
            agent.SendAsync(new { type = "conversation.accept", conversationId, requestId = "a" }),
            admin.SendAsync(new { type = "conversation.accept", conversationId, requestId = "b" }));
        var replies = await Task.WhenAll(
            agent.NextAsync(f => f.TryGetProperty("requestId", out var r) && r.GetString() == "a"),
            admin.NextAsync(f => f.TryGetProperty("requestId", out var r) && r.GetString() == "b"));

        Assert.Single(replies, r => r.GetProperty("type").GetString() == "conversation.updated");
        Assert.Single(replies, r => r.GetProperty("type").GetString() == "error" && r.GetProperty("code").GetString() == "already_assigned");
    }

    [Fact]
    public async Task An_agent_must_accept_before_replying()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);
        await using var agent = await Server.AgentAsync(await Server.AgentTokenAsync());

        var refused = await SendAsync(agent, conversationId, "not mine yet");
        Assert.Equal("not_assigned", refused.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Either_side_closes_and_either_side_resumes()
    {
        var (consumer, agent, conversationId) = await AcceptedConversationAsync();
        await using var _ = consumer;
        await using var __ = agent;

        await agent.SendAsync(new { type = "conversation.close", conversationId });
        var closed = await consumer.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "closed");
        Assert.Equal(conversationId, closed.GetProperty("conversation").GetProperty("id").GetGuid());
        var closedEvent = await consumer.ExpectAsync("message", f => f.GetProperty("message").GetProperty("kind").GetString() == "event");
        Assert.Equal("conversation.closed", closedEvent.GetProperty("message").GetProperty("text").GetString());
        Assert.Equal("conversation_closed", (await SendAsync(consumer, conversationId, "hello?")).GetProperty("code").GetString());

        await consumer.SendAsync(new { type = "conversation.resume", conversationId });
        await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("status").GetString() == "open");
        Assert.Equal("message.ack", (await SendAsync(consumer, conversationId, "back again")).GetProperty("type").GetString());

        // The agent still holds the update of its own close above: wait for the consumer's close itself.
        await consumer.SendAsync(new { type = "conversation.close", conversationId, requestId = "consumer-close" });
        var consumerClosed = await consumer.NextAsync(f => f.TryGetProperty("requestId", out var r) && r.GetString() == "consumer-close");
        Assert.Equal("closed", consumerClosed.GetProperty("conversation").GetProperty("status").GetString());
        await agent.SendAsync(new { type = "conversation.resume", conversationId, requestId = "agent-resume" });
        var resumedByAgent = await agent.ExpectAsync("conversation.updated", f => f.TryGetProperty("requestId", out var r) && r.GetString() == "agent-resume");
        Assert.Equal("open", resumedByAgent.GetProperty("conversation").GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, resumedByAgent.GetProperty("conversation").GetProperty("assignedAgentId").ValueKind);
    }

    [Fact]
    public async Task Clearing_history_ends_the_conversation_and_unlinks_the_device()
    {
        var visitor = await Server.NewVisitorAsync();
        await using var consumer = await Server.ConsumerAsync(visitor);
        var conversationId = await StartConversationAsync(consumer);
        await SendAsync(consumer, conversationId, "something private");

        await consumer.SendAsync(new { type = "history.clear", conversationId });
        await consumer.ExpectAsync("history.cleared");
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, await consumer.ClosedAsync());

        Assert.Equal(Conversations.ConversationStatus.Closed, (await Server.Store.GetConversationAsync(conversationId, CancellationToken.None))!.Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/consumer/conversations");
        request.Headers.Authorization = new("Bearer", visitor);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Server.Http.SendAsync(request)).StatusCode);
        var session = await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = TestServer.DemoDeployment, visitorToken = visitor });
        var body = await session.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(visitor, body.GetProperty("visitorToken").GetString());
        Assert.Empty(body.GetProperty("conversations").EnumerateArray());
    }

    [Fact]
    public async Task Malformed_frames_get_an_error_and_the_connection_stays_up()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());

        await consumer.SendRawAsync("{not json");
        Assert.Equal("invalid_frame", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());
        await consumer.SendRawAsync("""{"type":"launch.rockets"}""");
        Assert.Equal("unknown_frame_type", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());
        await consumer.SendRawAsync("""{"type":"message.send","text":"no conversation"}""");
        Assert.Equal("invalid_frame", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());
        await consumer.SendRawAsync("""{"type":"message.send","conversationId":"not-a-guid","clientMessageId":"x","text":"t"}""");
        Assert.Equal("invalid_frame", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());
        await consumer.SendRawAsync("[1,2,3]");
        Assert.Equal("invalid_frame", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());
        await consumer.SendAsync(new { type = "conversation.accept", conversationId = Guid.NewGuid() });
        Assert.Equal("forbidden", (await consumer.ExpectAsync("error")).GetProperty("code").GetString());

        await consumer.SendAsync(new { type = "ping", requestId = "still-here" });
        Assert.Equal("still-here", (await consumer.ExpectAsync("pong")).GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task Messages_over_the_length_limit_and_empty_ones_are_refused()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        var conversationId = await StartConversationAsync(consumer);

        Assert.Equal("message_too_long", (await SendAsync(consumer, conversationId, new string('x', 4001))).GetProperty("code").GetString());
        Assert.Equal("invalid_request", (await SendAsync(consumer, conversationId, "   ")).GetProperty("code").GetString());
        Assert.Empty(await Server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_frame_over_the_size_limit_closes_the_socket_with_1009()
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());

        await consumer.SendRawAsync($$"""{"type":"ping","requestId":"{{new string('x', 40_000)}}"}""");

        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, await consumer.ClosedAsync());
    }

    [Fact]
    public async Task Frames_before_authentication_are_refused()
    {
        await using var client = await WsClient.ConnectAsync(Server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}"));

        await client.SendAsync(new { type = "conversation.start" });
        Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        await client.SendAsync(new { type = "auth", token = "pvt_forged-token-that-does-not-exist-anywhere-at-all-xx" });
        Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, await client.ClosedAsync());
    }

    [Fact]
    public async Task A_browser_origin_not_allowed_for_the_deployment_is_refused()
    {
        var uri = Server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}");
        var refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => WsClient.ConnectAsync(uri, origin: "https://evil.example"));
        Assert.Contains("403", refused.Message);
        await using var allowed = await WsClient.ConnectAsync(uri, origin: "http://localhost:5080");
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, allowed.State);

        using var session = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions")
        {
            Content = JsonContent.Create(new { deploymentId = TestServer.DemoDeployment }),
        };
        session.Headers.Add("Origin", "https://evil.example");
        var response = await Server.Http.SendAsync(session);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("origin_not_allowed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_agent_socket_opened_from_another_site_is_refused()
    {
        var token = await Server.AgentTokenAsync();
        var refused = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() =>
            WsClient.ConnectAsync(Server.WebSocketUri("/ws/agent"), token, origin: "https://evil.example"));
        Assert.Contains("403", refused.Message);
    }

    [Fact]
    public async Task History_pages_through_the_rest_api()
    {
        var visitor = await Server.NewVisitorAsync();
        await using var consumer = await Server.ConsumerAsync(visitor);
        var conversationId = await StartConversationAsync(consumer);
        for (var i = 1; i <= 5; i++)
        {
            await SendAsync(consumer, conversationId, $"m{i}");
        }

        async Task<JsonElement> PageAsync(long after)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}/messages?after={after}&limit=2");
            request.Headers.Authorization = new("Bearer", visitor);
            var response = await Server.Http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        var texts = new List<string>();
        long? after = 0;
        while (after is { } a)
        {
            var page = await PageAsync(a);
            texts.AddRange(page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("text").GetString()!));
            after = page.GetProperty("nextAfter").ValueKind == JsonValueKind.Number ? page.GetProperty("nextAfter").GetInt64() : null;
        }

        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], texts);
    }

    [Fact]
    public async Task Agent_login_with_a_wrong_password_is_refused()
    {
        var response = await Server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = Demo.DemoOptions.AgentEmail, password = "wrong" });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthorized", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Health_and_readiness_answer()
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, (await Server.Http.GetAsync("/healthz")).StatusCode);
        var ready = await Server.Http.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
    }
}
