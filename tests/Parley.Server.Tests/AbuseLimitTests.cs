using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>
/// The abuse limits (docs/security.md): one client going over a limit gets a clear, retryable
/// refusal (HTTP 429 with Retry-After, or an error frame), keeps nothing it was refused, and does
/// not take the limit away from other clients.
/// </summary>
public sealed class AbuseLimitTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "--Parley:Limits:SessionsPerIpPerMinute=3",
        "--Parley:Limits:SessionsPerDeploymentPerMinute=6",
        "--Parley:Limits:TokenTestsPerAdminPerMinute=2",
        "--Parley:Limits:FramesPerSecond=2",
        "--Parley:Limits:FrameBurst=5",
        "--Parley:Limits:MaxConnectionsPerConsumer=2",
        "--Parley:Limits:LoginLinksPerConversation=2",
        "--Parley:Limits:MidChatLoginsPerConversationPerMinute=3");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpResponseMessage> SessionAsync(string? forwardedFor = null, Guid? deploymentId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions")
        {
            Content = JsonContent.Create(new { deploymentId = deploymentId ?? TestServer.DemoDeployment }),
        };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await _server.Http.SendAsync(request);
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("rate_limited", problem.GetProperty("code").GetString());
        Assert.True(problem.GetProperty("retryable").GetBoolean());
    }

    [Fact]
    public async Task Sessions_are_limited_per_client_address_and_a_proxys_forwarded_address_counts_as_its_own()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await SessionAsync("198.51.100.1")).StatusCode);
        }

        await AssertRateLimitedAsync(await SessionAsync("198.51.100.1"));
        // Another visitor behind the same (loopback) proxy is not affected.
        Assert.Equal(HttpStatusCode.Created, (await SessionAsync("198.51.100.2")).StatusCode);
    }

    [Fact]
    public async Task Sessions_are_limited_per_deployment_whatever_the_address()
    {
        var (deploymentId, _) = await _server.NewTenantAsync();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await SessionAsync($"203.0.113.{i + 1}", deploymentId)).StatusCode);
        }

        await AssertRateLimitedAsync(await SessionAsync("203.0.113.99", deploymentId));
        Assert.Equal(HttpStatusCode.Created, (await SessionAsync("203.0.113.99")).StatusCode);
    }

    [Fact]
    public async Task The_token_tester_is_limited_per_admin()
    {
        var (deploymentId, _) = await _server.NewTenantAsync();
        var tenantId = (await _server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var settings = await TestTokens.AttachSettingsAsync(_server, deploymentId, System.Security.Cryptography.RSA.Create(2048));
        var admin = await _server.AdminTokenAsync(tenantId);
        var path = $"/api/v1/admin/authentication-settings/{settings.Id}/test";
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Post, path, admin, new { token = "a.b.c" })).StatusCode);
        }

        await AssertRateLimitedAsync(await _server.SendAsync(HttpMethod.Post, path, admin, new { token = "a.b.c" }));
        var otherAdmin = await _server.AdminTokenAsync(tenantId);
        Assert.Equal(HttpStatusCode.OK, (await _server.SendAsync(HttpMethod.Post, path, otherAdmin, new { token = "a.b.c" })).StatusCode);
    }

    [Fact]
    public async Task A_visitor_over_the_frame_budget_is_read_at_the_budgets_pace_told_once_and_loses_nothing()
    {
        var token = await _server.NewVisitorAsync();
        await using var visitor = await _server.ConsumerAsync(token);
        await visitor.SendAsync(new { type = "conversation.start", requestId = "start" });
        var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        for (var i = 0; i < 12; i++)
        {
            await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = $"m-{i}", text = $"message {i}" });
        }

        // 2 frames per second past a burst of 5 (auth and start used two): far from all 12 within a second.
        var early = await visitor.DrainAsync(TimeSpan.FromSeconds(1));
        Assert.InRange(early.Count(f => f.GetProperty("type").GetString() == "message.ack"), 1, 6);
        var told = Assert.Single(early, f => f.GetProperty("type").GetString() == "error");
        Assert.Equal(("rate_limited", true), (told.GetProperty("code").GetString(), told.GetProperty("retryable").GetBoolean()));

        // Then every message arrives, none refused, and the socket stays open.
        await visitor.ExpectAsync("message.ack", f => f.GetProperty("clientMessageId").GetString() == "m-11", TimeSpan.FromSeconds(15));
        var history = await (await _server.SendAsync(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}/messages", token))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"m-{i}"), history.GetProperty("items").EnumerateArray()
            .Where(m => m.GetProperty("senderRole").GetString() == "consumer").Select(m => m.GetProperty("clientMessageId").GetString()));
        Assert.Equal(WebSocketState.Open, visitor.State);
    }

    [Fact]
    public async Task Agents_connections_are_not_paced()
    {
        await using var agent = await _server.AgentAsync(await _server.AgentTokenAsync());
        for (var i = 0; i < 30; i++)
        {
            await agent.SendAsync(new { type = "ping", requestId = $"p-{i}" });
        }

        await agent.ExpectAsync("pong", f => f.GetProperty("requestId").GetString() == "p-29", TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task The_bot_issues_only_so_many_login_links_per_conversation()
    {
        var deploymentId = Parley.Demo.DemoOptions.ImplicitDeploymentId;
        await using var visitor = await _server.ConsumerAsync(await _server.NewVisitorAsync(deploymentId), deploymentId);
        await visitor.SendAsync(new { type = "conversation.start" });
        var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await visitor.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        for (var i = 0; i < 3; i++)
        {
            await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = $"ask-{i}", text = "statement copy please" });
            await Task.Delay(600); // one case at a time, as a visitor would ask
        }

        var frames = await visitor.DrainAsync(TimeSpan.FromSeconds(1));
        var texts = frames.Where(f => f.GetProperty("type").GetString() == "message").Select(f => f.GetProperty("message").GetProperty("text").GetString()).ToList();
        Assert.Equal(2, texts.Count(t => t == "authentication.requested"));
        Assert.Contains(texts, t => t!.StartsWith("You have asked for several logins", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_messengers_login_button_shares_the_bots_budget_of_login_links()
    {
        // Each request from an address of its own: only the conversation's link budget can refuse here.
        var deploymentId = Parley.Demo.DemoOptions.ImplicitDeploymentId;
        var session = await SessionAsync($"198.51.100.{Random.Shared.Next(1, 250)}", deploymentId);
        var token = (await session.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
        await using var visitor = await _server.ConsumerAsync(token, deploymentId);
        await visitor.SendAsync(new { type = "conversation.start" });
        var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/login-link")
            {
                Headers = { Authorization = new("Bearer", token) },
            };
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{10 + i}");
            responses.Add(await _server.Http.SendAsync(request));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], responses.Select(r => r.StatusCode));
        Assert.Contains("login links", (await responses[^1].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("parley_policy=\"parley-login-links\"", await _server.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_socket_that_stops_answering_pings_is_dropped_and_frees_its_place()
    {
        await using var server = await TestServer.StartAsync(
            "--Parley:Realtime:KeepAliveInterval=00:00:01", "--Parley:Realtime:KeepAliveTimeout=00:00:01", "--Parley:Limits:MaxConnectionsPerConsumer=1");
        var token = await server.NewVisitorAsync();
        var uri = server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}");

        // A device that went away: connected and authenticated, then never reads again (so never answers a ping).
        using var gone = new ClientWebSocket();
        gone.Options.KeepAliveInterval = TimeSpan.Zero;
        gone.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await gone.ConnectAsync(uri, CancellationToken.None);

        await using (var second = await WsClient.ConnectAsync(uri, token))
        {
            Assert.Equal("too_many_connections", (await second.ExpectAsync("error")).GetProperty("code").GetString());
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await using var back = await WsClient.ConnectAsync(uri, token);
        await back.ExpectAsync("ready");
    }

    [Fact]
    public async Task A_visitor_may_hold_only_so_many_connections_at_once()
    {
        var token = await _server.NewVisitorAsync();
        var first = await _server.ConsumerAsync(token);
        await using var second = await _server.ConsumerAsync(token);

        await using (var third = await WsClient.ConnectAsync(_server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}")))
        {
            await third.SendAsync(new { type = "auth", token });
            var refused = await third.ExpectAsync("error");
            Assert.Equal(("too_many_connections", true), (refused.GetProperty("code").GetString(), refused.GetProperty("retryable").GetBoolean()));
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, await third.ClosedAsync());
        }

        await first.DisposeAsync();
        await Task.Delay(200);
        await using var again = await _server.ConsumerAsync(token);
        await again.SendAsync(new { type = "ping" });
        await again.ExpectAsync("pong");
    }

    [Fact]
    public async Task A_flood_of_forged_mid_chat_logins_is_stopped_before_it_fills_the_audit_log()
    {
        var (deploymentId, _) = await _server.NewTenantAsync();
        using var brand = System.Security.Cryptography.RSA.Create(2048);
        var settings = await TestTokens.AttachSettingsAsync(_server, deploymentId, brand);
        var token = await _server.NewVisitorAsync(deploymentId);
        await using var visitor = await _server.ConsumerAsync(token, deploymentId);
        await visitor.SendAsync(new { type = "conversation.start" });
        var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/authenticate")
            {
                Content = JsonContent.Create(new { jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmb3JnZWQifQ.AAAA" }),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{10 + i}"); // apart from the per-address limit: this one is per conversation
            statuses.Add((await _server.Http.SendAsync(request)).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        // The WebSocket shares the conversation's budget.
        await visitor.SendAsync(new { type = "conversation.authenticate", conversationId, jwt = "forged", requestId = "ws" });
        Assert.Equal("rate_limited", (await visitor.ExpectAsync("error", f => f.GetProperty("requestId").GetString() == "ws")).GetProperty("code").GetString());
        var audited = await _server.Store.ListAuditEventsAsync(settings.TenantId, Audit.AuditKinds.MidChatLogin, null, 50, CancellationToken.None);
        Assert.Equal(3, audited.Count(e => e.ConversationId == conversationId));
    }
}
