using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;
using Parley.Bots;
using Parley.Routing;

namespace Parley.Server.Tests;

/// <summary>
/// Routing end to end: rules on verified identity and context, priorities, agent queues and
/// capacity, re-routing when a login starts or ends, automatic assignment and queue metrics.
/// </summary>
public sealed class RoutingTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly RSA Brand = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    /// <summary>Dynamics' example: VIPs (a verified context variable) first, then logged-in customers, then everyone else.</summary>
    private static readonly object VipRouting = new
    {
        queues = new object[]
        {
            new { name = "vip", displayName = "VIP customers" },
            new { name = "authenticated", displayName = "Logged-in customers" },
            new { name = "anonymous", displayName = "Everyone else" },
            new { name = "general" },
        },
        defaultQueue = "anonymous",
        rules = new object[]
        {
            new { name = "VIP", condition = "authenticated and context.msdyn_isvip == \"true\"", queue = "vip", priority = 100 },
            new { name = "Logged in", condition = "authenticated", queue = "authenticated", priority = 10 },
        },
    };

    private sealed record TestBrand(Guid TenantId, Guid DeploymentId, string AdminToken);

    private static async Task<TestBrand> BrandAsync(TestServer server, object? routing = null, int? sessionTtlMinutes = null, DateTimeOffset? now = null)
    {
        var (deploymentId, _) = await server.NewTenantAsync("https://www.acme.example");
        var tenantId = (await server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var settings = await TestTokens.AttachSettingsAsync(server, deploymentId, Brand, sessionTtlMinutes, now);
        await server.Store.SaveAuthenticationSettingsAsync(settings with { AuthorizationEndpoint = "https://login.acme.example/authorize" }, CancellationToken.None);
        var admin = await server.AdminTokenAsync(tenantId);
        var response = await server.SendAsync(HttpMethod.Put, "/api/v1/admin/routing", admin, routing ?? VipRouting);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new TestBrand(tenantId, deploymentId, admin);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Jwt(DateTimeOffset now, string sub, object? lwicontexts = null, string? nonce = null)
    {
        var at = now.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object> { ["iss"] = TestTokens.Issuer, ["aud"] = "parley", ["sub"] = sub, ["exp"] = at + 3600, ["iat"] = at - 5 };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        if (lwicontexts is not null)
        {
            claims["lwicontexts"] = lwicontexts;
        }

        return TestTokens.Rs256(Brand, claims);
    }

    /// <summary>A visitor (logged in when <paramref name="jwt"/> is given) who starts a conversation; its id and the visitor token.</summary>
    private static async Task<(Guid ConversationId, string VisitorToken)> StartAsync(
        TestServer server, Guid deploymentId, string? jwt = null, object? attributes = null)
    {
        var session = await JsonAsync(await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt }));
        var token = session.GetProperty("visitorToken").GetString()!;
        await using var socket = await server.ConsumerAsync(token, deploymentId);
        await socket.SendAsync(new { type = "conversation.start", attributes });
        var conversation = (await socket.ExpectAsync("conversation")).GetProperty("conversation");
        return (conversation.GetProperty("id").GetGuid(), token);
    }

    private static async Task<Conversations.Conversation> StoredAsync(TestServer server, Guid conversationId) =>
        (await server.Store.GetConversationAsync(conversationId, CancellationToken.None))!;

    [Fact]
    public async Task An_authenticated_vip_lands_in_the_vip_queue_ahead_of_earlier_anonymous_conversations()
    {
        var brand = await BrandAsync(Server);
        var now = DateTimeOffset.UtcNow;
        var (first, _) = await StartAsync(Server, brand.DeploymentId);

        // The page claims VIP status every way it can; none of it is verified.
        var (forged, _) = await StartAsync(Server, brand.DeploymentId, attributes: new Dictionary<string, string>
        {
            ["msdyn_isvip"] = "true",
            ["lwicontexts"] = "{\"msdyn_isvip\":\"true\"}",
        });
        var (member, _) = await StartAsync(Server, brand.DeploymentId, Jwt(now, "member-" + Guid.NewGuid().ToString("N")));
        var (vip, _) = await StartAsync(Server, brand.DeploymentId, Jwt(now, "vip-" + Guid.NewGuid().ToString("N"), new { msdyn_isvip = "true" }));

        Assert.Equal(("anonymous", 0, (string?)null), Routed(await StoredAsync(Server, first)));
        Assert.Equal(("anonymous", 0, (string?)null), Routed(await StoredAsync(Server, forged)));
        Assert.Equal(("authenticated", 10, "Logged in"), Routed(await StoredAsync(Server, member)));
        Assert.Equal(("vip", 100, "VIP"), Routed(await StoredAsync(Server, vip)));

        var (_, agent) = await Server.NewAgentAsync(brand.TenantId);
        var waiting = await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/agent/queue", agent));
        Assert.Equal([vip, member, first, forged], waiting.EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
        var next = await JsonAsync(await Server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/next", agent));
        Assert.Equal(vip, next.GetProperty("id").GetGuid());
        Assert.Equal(("vip", 100, "VIP"), (next.GetProperty("queue").GetString(), next.GetProperty("priority").GetInt32(), next.GetProperty("routingRule").GetString()));

        // An agent of the anonymous queue gets the oldest anonymous conversation and cannot take the logged-in customer's.
        var (_, anonymousDesk) = await Server.NewAgentAsync(brand.TenantId, queues: ["anonymous"]);
        Assert.Equal([first, forged], (await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/agent/queue", anonymousDesk)))
            .EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
        Assert.Equal(first, (await JsonAsync(await Server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/next", anonymousDesk))).GetProperty("id").GetGuid());
        var refused = await Server.SendAsync(HttpMethod.Post, $"/api/v1/agent/conversations/{member}/accept", anonymousDesk);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("not_in_queue", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        // Another brand's agent sees none of it.
        var (_, strangerEmail) = await Server.NewTenantAsync();
        var stranger = await Server.AgentTokenAsync(strangerEmail);
        Assert.Equal(HttpStatusCode.NoContent, (await Server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/next", stranger)).StatusCode);
        Assert.Empty((await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/agent/queue", stranger))).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await Server.SendAsync(HttpMethod.Post, $"/api/v1/agent/conversations/{forged}/accept", stranger)).StatusCode);
        Assert.Null((await StoredAsync(Server, forged)).AssignedAgentId);
    }

    private static (string?, int, string?) Routed(Conversations.Conversation c) => (c.Queue, c.Priority, c.RoutingRule);

    [Fact]
    public async Task Concurrent_accepts_respect_capacity_and_assign_no_conversation_twice()
    {
        var brand = await BrandAsync(Server);
        var conversations = new List<Guid>();
        for (var i = 0; i < 8; i++)
        {
            conversations.Add((await StartAsync(Server, brand.DeploymentId)).ConversationId);
        }

        var agents = new List<(Guid Id, string Token)>();
        for (var i = 0; i < 3; i++)
        {
            agents.Add(await Server.NewAgentAsync(brand.TenantId, capacity: 2));
        }

        // Every agent tries every conversation, and asks for the next one twice, all at once.
        var attempts = agents.SelectMany(agent => conversations
                .Select(id => (agent.Id, Request: (Func<Task<HttpResponseMessage>>)(() => Server.SendAsync(HttpMethod.Post, $"/api/v1/agent/conversations/{id}/accept", agent.Token))))
                .Concat(Enumerable.Range(0, 2).Select(_ => (agent.Id, Request: (Func<Task<HttpResponseMessage>>)(() => Server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/next", agent.Token))))))
            .ToList();
        var responses = await Task.WhenAll(attempts.Select(a => Task.Run(a.Request)));

        var wins = new List<(Guid Agent, Guid Conversation)>();
        for (var i = 0; i < responses.Length; i++)
        {
            if (responses[i].StatusCode == HttpStatusCode.OK)
            {
                wins.Add((attempts[i].Id, (await responses[i].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid()));
            }
            else if (responses[i].StatusCode != HttpStatusCode.NoContent)
            {
                Assert.Equal(HttpStatusCode.Conflict, responses[i].StatusCode);
                var code = (await responses[i].Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();
                Assert.Contains(code, new[] { "already_assigned", "capacity_reached" });
            }
        }

        // Accepting a conversation one already has answers OK again: count distinct assignments.
        var assignments = wins.Distinct().ToList();
        Assert.Equal(6, assignments.Count);
        Assert.Equal(6, assignments.Select(w => w.Conversation).Distinct().Count());
        Assert.All(assignments.GroupBy(w => w.Agent), g => Assert.Equal(2, g.Count()));
        foreach (var (agentId, conversationId) in assignments)
        {
            Assert.Equal(agentId, (await StoredAsync(Server, conversationId)).AssignedAgentId);
        }

        var full = await Server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/next", agents[0].Token);
        Assert.Equal("capacity_reached", (await full.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_mid_chat_login_routes_the_waiting_conversation_again_and_its_expiry_routes_it_back()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var brand = await BrandAsync(server, sessionTtlMinutes: 30, now: clock.GetUtcNow());
        var (conversationId, visitorToken) = await StartAsync(server, brand.DeploymentId);
        var before = await StoredAsync(server, conversationId);
        Assert.Equal(("anonymous", 0, (string?)null), Routed(before));

        clock.Advance(TimeSpan.FromMinutes(2));
        var link = (await server.Services.GetRequiredService<LoginLinks>().CreateAsync(before, CancellationToken.None))!.Url;
        var query = QueryHelpers.ParseQuery(new Uri(link).Query);
        await JsonAsync(await server.SendAsync(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/authenticate", visitorToken,
            new { state = query["state"].ToString(), jwt = Jwt(clock.GetUtcNow(), "vip-7", new { msdyn_isvip = "true" }, query["nonce"]) }));

        var upgraded = await StoredAsync(server, conversationId);
        Assert.Equal(("vip", 100, "VIP"), Routed(upgraded));
        Assert.Equal(before.QueuedAt, upgraded.QueuedAt);
        Assert.Equal(clock.GetUtcNow().AddMinutes(30), upgraded.RoutedUntil!.Value, TimeSpan.FromSeconds(1));

        // The login ends: the sweep routes it as the anonymous conversation it is again, in its old place.
        clock.Advance(TimeSpan.FromMinutes(31));
        await server.Services.GetRequiredService<RoutingMaintenance>().SweepAsync(CancellationToken.None);
        var expired = await StoredAsync(server, conversationId);
        Assert.Equal(("anonymous", 0, (string?)null), Routed(expired));
        Assert.Null(expired.RoutedUntil);
        Assert.Equal(before.QueuedAt, expired.QueuedAt);
    }

    [Fact]
    public async Task A_conversation_an_agent_has_is_not_routed_again()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var brand = await BrandAsync(server, sessionTtlMinutes: 30, now: clock.GetUtcNow());
        var (conversationId, _) = await StartAsync(server, brand.DeploymentId, Jwt(clock.GetUtcNow(), "vip-8", new { msdyn_isvip = "true" }));
        var (_, agent) = await server.NewAgentAsync(brand.TenantId);
        await JsonAsync(await server.SendAsync(HttpMethod.Post, $"/api/v1/agent/conversations/{conversationId}/accept", agent));

        clock.Advance(TimeSpan.FromMinutes(31));
        await server.Services.GetRequiredService<RoutingMaintenance>().SweepAsync(CancellationToken.None);

        Assert.Equal(("vip", 100, "VIP"), Routed(await StoredAsync(server, conversationId)));
    }

    [Fact]
    public async Task The_bot_keeps_a_conversation_out_of_the_queues_until_it_hands_over()
    {
        var brand = await BrandAsync(Server);
        var bot = new BotSettings
        {
            Greeting = "Hi!",
            Cases =
            [
                new BotCase("Opening hours", ["hours"], "9 to 5."),
                new BotCase("Talk to an agent", ["agent"], "Connecting you.", HandOver: true, Queue: "general"),
            ],
        };
        await JsonAsync(await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{brand.DeploymentId}/bot", brand.AdminToken, bot));
        var (_, agent) = await Server.NewAgentAsync(brand.TenantId, queues: ["general", "anonymous"]);

        async Task<(Guid Id, WsClient Socket)> ChatAsync()
        {
            var token = await Server.NewVisitorAsync(brand.DeploymentId);
            var socket = await Server.ConsumerAsync(token, brand.DeploymentId);
            await socket.SendAsync(new { type = "conversation.start" });
            var id = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await socket.SendAsync(new { type = "conversation.subscribe", conversationId = id, since = 0 });
            return (id, socket);
        }

        async Task SayAsync(WsClient socket, Guid id, string text)
        {
            await socket.SendAsync(new { type = "message.send", conversationId = id, clientMessageId = Guid.NewGuid().ToString(), text });
            var answer = (await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "conversation.handover"
                || f.GetProperty("message").GetProperty("text").GetString() == "9 to 5.")).GetProperty("message");

            // The visitor sees the hand-over, never the queue's name.
            Assert.False(answer.TryGetProperty("data", out var data) && data.TryGetProperty("queue", out _));
        }

        var (handedOver, first) = await ChatAsync();
        var (unknown, second) = await ChatAsync();
        await using (first)
        await using (second)
        {
            Assert.Null((await StoredAsync(Server, handedOver)).Queue);
            await SayAsync(first, handedOver, "what are your hours");
            Assert.Null((await StoredAsync(Server, handedOver)).Queue);
            Assert.Empty((await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/agent/queue", agent))).EnumerateArray());

            await SayAsync(first, handedOver, "I want an agent");
            await SayAsync(second, unknown, "my card was swallowed by the machine");
        }

        Assert.Equal("general", (await StoredAsync(Server, handedOver)).Queue);
        Assert.Equal("anonymous", (await StoredAsync(Server, unknown)).Queue);
        Assert.Equal([handedOver, unknown], (await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/agent/queue", agent)))
            .EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task Automatic_assignment_picks_the_least_loaded_connected_agent_and_a_lost_agents_work_returns_after_the_grace_period()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var brand = await BrandAsync(server, new
        {
            queues = new[] { new { name = "default" } },
            autoAssign = true,
            disconnectGraceSeconds = 60,
        });
        var ana = await server.NewAgentAsync(brand.TenantId, capacity: 2);
        var bob = await server.NewAgentAsync(brand.TenantId, capacity: 2);
        var offline = await server.NewAgentAsync(brand.TenantId, capacity: 10);
        var anaSocket = await server.AgentAsync(ana.Token);
        await using var bobSocket = await server.AgentAsync(bob.Token);
        var presence = server.Services.GetRequiredService<AgentPresence>();
        var sweep = server.Services.GetRequiredService<RoutingMaintenance>();
        await EventuallyAsync(async () => (await presence.ConnectedAgentsAsync(brand.TenantId, CancellationToken.None)).Count == 2);

        async Task<Dictionary<Guid, int>> LoadsAsync() =>
            (await server.Store.CountAssignedConversationsAsync(brand.TenantId, CancellationToken.None)).ToDictionary();

        // Each new conversation goes to whoever has fewer: one each, then two each.
        var conversations = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            conversations.Add((await StartAsync(server, brand.DeploymentId)).ConversationId);
            if (i == 1)
            {
                Assert.Equal(new Dictionary<Guid, int> { [ana.Id] = 1, [bob.Id] = 1 }, await LoadsAsync());
            }
        }

        Assert.Equal(new Dictionary<Guid, int> { [ana.Id] = 2, [bob.Id] = 2 }, await LoadsAsync());

        // A fifth waits: both are at capacity (and the agent who is not connected gets nothing).
        clock.Advance(TimeSpan.FromSeconds(1));
        var fifth = (await StartAsync(server, brand.DeploymentId)).ConversationId;
        Assert.Null((await StoredAsync(server, fifth)).AssignedAgentId);

        // Ana's connection drops. Within the grace period she keeps her work.
        var anaConversations = new List<Guid>();
        foreach (var id in conversations)
        {
            if ((await StoredAsync(server, id)).AssignedAgentId == ana.Id)
            {
                anaConversations.Add(id);
            }
        }

        await anaSocket.DisposeAsync();
        await EventuallyAsync(async () => !(await presence.ConnectedAgentsAsync(brand.TenantId, CancellationToken.None)).Contains(ana.Id));
        clock.Advance(TimeSpan.FromSeconds(30));
        await sweep.SweepAsync(CancellationToken.None);
        Assert.Equal(2, (await LoadsAsync())[ana.Id]);

        // Past it, the sweep returns her conversations to the queue.
        clock.Advance(TimeSpan.FromSeconds(31));
        await sweep.SweepAsync(CancellationToken.None);
        Assert.False((await LoadsAsync()).ContainsKey(ana.Id));
        Assert.Equal(2, (await LoadsAsync())[bob.Id]);

        // They kept their place: when Bob has room, he gets one of hers before the fifth.
        var bobs = conversations.Except(anaConversations).First();
        await bobSocket.SendAsync(new { type = "conversation.close", conversationId = bobs, requestId = "close" });
        await bobSocket.ExpectAsync("conversation.updated", f => f.TryGetProperty("requestId", out var r) && r.GetString() == "close");
        await EventuallyAsync(async () => (await LoadsAsync()).GetValueOrDefault(bob.Id) == 2);
        var taken = (await server.Store.ListConversationsByTenantAsync(brand.TenantId, Conversations.ConversationStatus.Open, 10, CancellationToken.None))
            .Where(c => c.AssignedAgentId == bob.Id).Select(c => c.Id).ToList();
        Assert.Single(taken.Intersect(anaConversations));
        Assert.Null((await StoredAsync(server, fifth)).AssignedAgentId);
        Assert.DoesNotContain(await LoadsAsync(), l => l.Key == offline.Id);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("The condition did not become true within 10 seconds.");
    }

    [Fact]
    public async Task Queue_metrics_are_on_the_admin_api_and_in_System_Diagnostics_Metrics()
    {
        var brand = await BrandAsync(Server);
        var (answered, _) = await StartAsync(Server, brand.DeploymentId);
        await StartAsync(Server, brand.DeploymentId);
        await StartAsync(Server, brand.DeploymentId, Jwt(DateTimeOffset.UtcNow, "vip-9", new { msdyn_isvip = "true" }));
        var (_, agent) = await Server.NewAgentAsync(brand.TenantId);
        await JsonAsync(await Server.SendAsync(HttpMethod.Post, $"/api/v1/agent/conversations/{answered}/accept", agent));
        await using (var socket = await Server.AgentAsync(agent))
        {
            await socket.SendAsync(new { type = "message.send", conversationId = answered, clientMessageId = "hello", text = "Hello, how can I help?" });
            await socket.ExpectAsync("message.ack");
        }

        var queues = (await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/queues", brand.AdminToken)))
            .EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        Assert.Equal(["vip", "authenticated", "anonymous", "general"], queues.Keys);
        Assert.Equal(1, queues["anonymous"].GetProperty("waiting").GetInt32());
        Assert.Equal(1, queues["anonymous"].GetProperty("respondedLast24Hours").GetInt32());
        Assert.True(queues["anonymous"].GetProperty("averageFirstResponseSeconds").GetDouble() >= 0);
        Assert.True(queues["anonymous"].GetProperty("longestWaitSeconds").GetDouble() >= 0);
        Assert.Equal(1, queues["vip"].GetProperty("waiting").GetInt32());
        Assert.Equal(JsonValueKind.Null, queues["vip"].GetProperty("averageFirstResponseSeconds").ValueKind);
        Assert.Equal(0, queues["general"].GetProperty("waiting").GetInt32());
        Assert.Equal("VIP customers", queues["vip"].GetProperty("displayName").GetString());

        // The same figures through System.Diagnostics.Metrics, tagged with the tenant and queue.
        var measured = new List<(string Instrument, string Queue, double Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == QueueMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var pairs = tags.ToArray();
            if (pairs.Any(t => t.Key == "parley.tenant" && (string?)t.Value == brand.TenantId.ToString()))
            {
                lock (measured)
                {
                    measured.Add((instrument.Name, (string)pairs.Single(t => t.Key == "parley.queue").Value!, value));
                }
            }
        }

        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        await Server.Services.GetRequiredService<RoutingMaintenance>().SweepAsync(CancellationToken.None);
        listener.RecordObservableInstruments();

        Assert.Contains(("parley.queue.waiting", "anonymous", 1.0), measured);
        Assert.Contains(("parley.queue.waiting", "vip", 1.0), measured);
        Assert.Contains(measured, m => m is { Instrument: "parley.queue.longest_wait", Queue: "vip", Value: >= 0 });
        Assert.Contains(measured, m => m is { Instrument: "parley.queue.first_response.average", Queue: "anonymous", Value: >= 0 });
        Assert.DoesNotContain(measured, m => m is { Instrument: "parley.queue.first_response.average", Queue: "vip" });
    }

    [Fact]
    public async Task Invalid_routing_is_refused_with_the_rule_and_position_and_only_admins_of_the_tenant_change_it()
    {
        var brand = await BrandAsync(Server);
        var bad = await Server.SendAsync(HttpMethod.Put, "/api/v1/admin/routing", brand.AdminToken, new
        {
            queues = new[] { new { name = "vip" }, new { name = "anonymous" } },
            defaultQueue = "anonymous",
            rules = new object[]
            {
                new { name = "ok", condition = "authenticated", queue = "vip" },
                new { name = "broken", condition = "context.cart > \"100\"", queue = "vip" },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, problem.GetProperty("rule").GetInt32());
        Assert.Equal(13, problem.GetProperty("position").GetInt32());
        Assert.StartsWith("rules[1].condition: \">\" compares numbers", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var unknownQueue = await Server.SendAsync(HttpMethod.Put, "/api/v1/admin/routing", brand.AdminToken, new
        {
            queues = new[] { new { name = "anonymous" } },
            defaultQueue = "anonymous",
            rules = new[] { new { name = "vip", condition = "authenticated", queue = "vip" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, unknownQueue.StatusCode);
        Assert.Contains("rules[0].queue \"vip\" is not one of the queues", (await unknownQueue.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        // Nothing of either was stored.
        var stored = await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/routing", brand.AdminToken));
        Assert.Equal("anonymous", stored.GetProperty("defaultQueue").GetString());
        Assert.Equal(2, stored.GetProperty("rules").GetArrayLength());

        var (agentId, agent) = await Server.NewAgentAsync(brand.TenantId);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Put, "/api/v1/admin/routing", agent, VipRouting)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/queues", agent)).StatusCode);

        var set = await JsonAsync(await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/agents/{agentId}/routing", brand.AdminToken, new { queues = new[] { "vip" }, capacity = 4 }));
        Assert.Equal(4, set.GetProperty("capacity").GetInt32());
        Assert.Equal("vip", set.GetProperty("queues")[0].GetString());
        Assert.Equal(HttpStatusCode.BadRequest,
            (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/agents/{agentId}/routing", brand.AdminToken, new { queues = new[] { "nope" }, capacity = 4 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/agents/{agentId}/routing", brand.AdminToken, new { queues = (string[]?)null, capacity = 1000 })).StatusCode);

        var other = await BrandAsync(Server);
        Assert.Equal(HttpStatusCode.NotFound,
            (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/agents/{agentId}/routing", other.AdminToken, new { queues = (string[]?)null, capacity = 1 })).StatusCode);
        Assert.DoesNotContain((await JsonAsync(await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/agents", other.AdminToken))).EnumerateArray(),
            a => a.GetProperty("id").GetGuid() == agentId);
        Assert.Equal(4, (await Server.Store.GetAgentAsync(agentId, CancellationToken.None))!.Capacity);
    }
}
