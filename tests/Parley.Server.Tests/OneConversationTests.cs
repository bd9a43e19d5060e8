using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Conversations;

namespace Parley.Server.Tests;

/// <summary>
/// One open conversation per authenticated customer and deployment: a login on any device, before
/// the chat or in the middle of one, joins the customer's open conversation; a mid-chat login while
/// the customer already has one merges the anonymous conversation into it, losing nothing.
/// </summary>
public sealed class OneConversationTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly RSA Brand = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    private static string Jwt(string sub)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub, exp = now + 600, iat = now - 5, given_name = "Ada" });
    }

    private async Task<(Guid DeploymentId, string AgentToken)> BrandAsync()
    {
        var (deploymentId, agentEmail) = await Server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        return (deploymentId, await Server.AgentTokenAsync(agentEmail));
    }

    private async Task<string> LoggedInDeviceAsync(Guid deploymentId, string sub)
    {
        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Jwt(sub) });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
    }

    /// <summary>A device with a started, subscribed conversation that has one message of the visitor's.</summary>
    private async Task<(WsClient Socket, Guid ConversationId)> ChattingAsync(string visitorToken, Guid deploymentId, string text)
    {
        var socket = await Server.ConsumerAsync(visitorToken, deploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        await socket.ExpectAsync("subscribed");
        await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = Guid.NewGuid().ToString(), text });
        await socket.ExpectAsync("message.ack");
        return (socket, conversationId);
    }

    private Task<HttpResponseMessage> AuthenticateAsync(string visitorToken, Guid conversationId, string sub) =>
        Server.SendAsync(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/authenticate", visitorToken, new { jwt = Jwt(sub) });

    private async Task<IReadOnlyList<Conversation>> OpenConversationsOfAsync(Guid consumerId) =>
        [.. (await Server.Store.ListConversationsByConsumerAsync(consumerId, CancellationToken.None)).Where(c => c.IsOpen)];

    private static async Task<JsonElement> AcceptAsync(WsClient agent, Guid conversationId)
    {
        await agent.SendAsync(new { type = "conversation.accept", conversationId });
        return await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("id").GetGuid() == conversationId
            && f.GetProperty("conversation").GetProperty("assignedAgentId").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task A_mid_chat_login_on_a_second_device_merges_into_the_customers_open_conversation_and_its_agent_keeps_the_customer()
    {
        var (deploymentId, agentToken) = await BrandAsync();
        await using var agent = await Server.AgentAsync(agentToken);

        // Ada chats logged in on her phone; an agent has the conversation.
        var (phone, accountConversation) = await ChattingAsync(await LoggedInDeviceAsync(deploymentId, "ada"), deploymentId, "from my phone");
        await using var _ = phone;
        await agent.SendAsync(new { type = "conversation.subscribe", conversationId = accountConversation, since = 0 });
        await agent.ExpectAsync("subscribed");
        await AcceptAsync(agent, accountConversation);

        // On her laptop she chats anonymously, then logs in mid-chat.
        var laptopToken = await Server.NewVisitorAsync(deploymentId);
        var (laptop, anonymousConversation) = await ChattingAsync(laptopToken, deploymentId, "from my laptop, before logging in");
        await using var __ = laptop;
        var response = await AuthenticateAsync(laptopToken, anonymousConversation, "ada");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        // The laptop continues in the customer's conversation.
        Assert.Equal(accountConversation, body.GetProperty("conversation").GetProperty("id").GetGuid());
        var customer = body.GetProperty("consumerId").GetGuid();
        Assert.Equal([accountConversation], (await OpenConversationsOfAsync(customer)).Select(c => c.Id));

        // Nothing is lost: the anonymous part is in the customer's conversation, then the event.
        var messages = await Server.Store.GetMessagesAsync(accountConversation, 0, 100, CancellationToken.None);
        var copy = Assert.Single(messages, m => m.Text == "from my laptop, before logging in");
        Assert.Contains(anonymousConversation.ToString(), copy.Data);
        var merged = messages[^1];
        Assert.Equal((MessageKind.Event, "conversation.merged"), (merged.Kind, merged.Text));
        Assert.Equal(copy.Seq + 1, merged.Seq);
        Assert.Contains(messages, m => m.Text == "from my phone");

        // The anonymous conversation closed, saying where it went; the agent still has the customer.
        var closed = (await Server.Store.GetConversationAsync(anonymousConversation, CancellationToken.None))!;
        Assert.False(closed.IsOpen);
        var closedEvents = await Server.Store.GetMessagesAsync(anonymousConversation, 0, 100, CancellationToken.None);
        Assert.Contains(closedEvents, m => m.Text == "conversation.merged" && m.Data!.Contains(accountConversation.ToString()));
        var survivor = (await Server.Store.GetConversationAsync(accountConversation, CancellationToken.None))!;
        Assert.NotNull(survivor.AssignedAgentId);

        // Both sides see it live: the phone and the agent get the copy and the event.
        foreach (var watcher in new[] { phone, agent })
        {
            await watcher.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "from my laptop, before logging in");
            await watcher.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "conversation.merged"
                && f.GetProperty("message").GetProperty("conversationId").GetGuid() == accountConversation);
        }

        // The laptop's new session writes into the one conversation, and the phone sees it.
        var laptopNow = await Server.ConsumerAsync(body.GetProperty("visitorToken").GetString()!, deploymentId);
        await using var ___ = laptopNow;
        await laptopNow.SendAsync(new { type = "message.send", conversationId = accountConversation, clientMessageId = "after", text = "now logged in" });
        await laptopNow.ExpectAsync("message.ack");
        await phone.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "now logged in");
    }

    [Fact]
    public async Task When_only_the_anonymous_conversation_has_an_agent_that_agent_takes_the_customers_conversation()
    {
        var (deploymentId, agentToken) = await BrandAsync();
        await using var agent = await Server.AgentAsync(agentToken);
        var (phone, accountConversation) = await ChattingAsync(await LoggedInDeviceAsync(deploymentId, "grace"), deploymentId, "phone");
        await using var _ = phone;
        var laptopToken = await Server.NewVisitorAsync(deploymentId);
        var (laptop, anonymousConversation) = await ChattingAsync(laptopToken, deploymentId, "laptop");
        await using var __ = laptop;
        var held = await AcceptAsync(agent, anonymousConversation);
        var agentId = held.GetProperty("conversation").GetProperty("assignedAgentId").GetGuid();

        var response = await AuthenticateAsync(laptopToken, anonymousConversation, "grace");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var survivor = (await Server.Store.GetConversationAsync(accountConversation, CancellationToken.None))!;
        Assert.Equal(agentId, survivor.AssignedAgentId);
        Assert.False((await Server.Store.GetConversationAsync(anonymousConversation, CancellationToken.None))!.IsOpen);
        await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("id").GetGuid() == accountConversation
            && f.GetProperty("conversation").GetProperty("assignedAgentId").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task Concurrent_mid_chat_logins_on_two_devices_leave_one_open_conversation_with_both_parts()
    {
        var (deploymentId, _) = await BrandAsync();
        var devices = new List<(string Token, WsClient Socket, Guid ConversationId)>();
        for (var i = 0; i < 4; i++)
        {
            var token = await Server.NewVisitorAsync(deploymentId);
            var (socket, conversationId) = await ChattingAsync(token, deploymentId, $"device {i}");
            devices.Add((token, socket, conversationId));
        }

        try
        {
            var responses = await Task.WhenAll(devices.Select(d => AuthenticateAsync(d.Token, d.ConversationId, "lin")));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<JsonElement>()));
            var continued = bodies.Select(b => b.GetProperty("conversation").GetProperty("id").GetGuid()).Distinct().ToList();
            var survivor = Assert.Single(continued);

            var customer = bodies[0].GetProperty("consumerId").GetGuid();
            Assert.Equal([survivor], (await OpenConversationsOfAsync(customer)).Select(c => c.Id));
            var texts = (await Server.Store.GetMessagesAsync(survivor, 0, 200, CancellationToken.None)).Select(m => m.Text).ToList();
            for (var i = 0; i < devices.Count; i++)
            {
                Assert.Single(texts, t => t == $"device {i}");
            }
        }
        finally
        {
            foreach (var device in devices)
            {
                await device.Socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Concurrent_logins_before_the_chat_on_two_devices_start_one_conversation()
    {
        var (deploymentId, _) = await BrandAsync();
        var tokens = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => LoggedInDeviceAsync(deploymentId, "mo")));
        var sockets = await Task.WhenAll(tokens.Select(t => Server.ConsumerAsync(t, deploymentId)));
        try
        {
            await Task.WhenAll(sockets.Select(s => s.SendAsync(new { type = "conversation.start" })));
            var started = await Task.WhenAll(sockets.Select(s => s.ExpectAsync("conversation")));
            Assert.Single(started.Select(f => f.GetProperty("conversation").GetProperty("id").GetGuid()).Distinct());
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
