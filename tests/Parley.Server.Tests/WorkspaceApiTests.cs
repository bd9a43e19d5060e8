using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>
/// The API the agent workspace and admin console add: conversation search, the consumer's
/// history, the session probe, deployments and agent accounts — each tried across tenants and roles.
/// </summary>
public sealed class WorkspaceApiTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly RSA Brand = RSA.Create(2048);

    private TestServer Server => fixture.Server;

    private async Task<(Guid TenantId, Guid DeploymentId, string Admin, string Agent)> TenantAsync()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        return (tenantId, deploymentId, await Server.AdminTokenAsync(tenantId), (await Server.NewAgentAsync(tenantId)).Token);
    }

    private async Task<JsonElement> JsonAsync(HttpMethod method, string path, string token, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await Server.SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>An anonymous visitor's conversation with one message and page attributes.</summary>
    private async Task<Guid> ConversationAsync(Guid deploymentId, string text, object attributes, string? visitorToken = null)
    {
        await using var visitor = await Server.ConsumerAsync(visitorToken ?? await Server.NewVisitorAsync(deploymentId), deploymentId);
        await visitor.SendAsync(new { type = "conversation.start", attributes, requestId = "s" });
        var id = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await visitor.SendAsync(new { type = "message.send", conversationId = id, clientMessageId = "c1", text });
        await visitor.ExpectAsync("message.ack");
        return id;
    }

    [Fact]
    public async Task Search_finds_by_text_attribute_consumer_and_date_only_in_the_agents_tenant()
    {
        var (_, deploymentId, _, agent) = await TenantAsync();
        var (_, otherDeployment, _, otherAgent) = await TenantAsync();
        var word = $"refund{Guid.NewGuid():N}"[..14];
        var mine = await ConversationAsync(deploymentId, $"Where is my {word}?", new { cart = "149.00" });
        var theirs = await ConversationAsync(otherDeployment, $"Where is my {word}?", new { cart = "149.00" });

        async Task<Guid[]> Find(string token, object filters) =>
            (await JsonAsync(HttpMethod.Post, "/api/v1/agent/conversations/search", token, filters)).EnumerateArray().Select(c => c.GetProperty("id").GetGuid()).ToArray();

        Assert.Equal([mine], await Find(agent, new { text = word.ToUpperInvariant() }));
        Assert.Equal([theirs], await Find(otherAgent, new { text = word }));
        Assert.Equal([mine], await Find(agent, new { attribute = "cart=149.00" }));
        Assert.Empty(await Find(agent, new { attribute = "cart=149" }));
        var consumerId = (await JsonAsync(HttpMethod.Get, $"/api/v1/agent/conversations/{mine}", agent)).GetProperty("consumerId").GetGuid();
        Assert.Equal([mine], await Find(agent, new { consumer = consumerId.ToString() }));
        Assert.Empty(await Find(otherAgent, new { consumer = consumerId.ToString() }));
        var today = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd");
        Assert.Contains(mine, await Find(agent, new { from = today, to = today, status = "open" }));
        Assert.Empty(await Find(agent, new { from = DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-dd") }));
        Assert.Empty(await Find(agent, new { text = word, status = "closed" }));
        Assert.Empty(await Find(agent, new { assigned = "me" }));
        await using (var agentSocket = await Server.AgentAsync(agent))
        {
            await agentSocket.SendAsync(new { type = "conversation.accept", conversationId = mine, requestId = "a" });
            await agentSocket.ExpectAsync("conversation.updated", f => f.TryGetProperty("requestId", out _));
        }

        Assert.Equal([mine], await Find(agent, new { assigned = "me", status = "open" }));

        foreach (var bad in new object[]
                 {
                     new { assigned = "someone" }, new { attribute = "nameonly" }, new { from = "yesterday" }, new { status = "maybe" },
                     new { text = new string('x', 201) }, new { attribute = "\"a\"=b" }, new { limit = "many" },
                 })
        {
            var problem = await JsonAsync(HttpMethod.Post, "/api/v1/agent/conversations/search", agent, bad, HttpStatusCode.BadRequest);
            Assert.Equal("invalid_request", problem.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task With_encryption_at_rest_text_search_is_refused_with_the_reason()
    {
        await using var server = await TestServer.StartAsync("--Parley:Storage:EncryptAtRest=true");
        var agent = await server.AgentTokenAsync();
        var response = await server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/search", agent, new { text = "refund" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("EncryptAtRest", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/search", agent, new { attribute = "cart=1" })).StatusCode);
    }

    [Fact]
    public async Task History_lists_a_logged_in_customers_other_conversations_and_nothing_for_anonymous_ones()
    {
        var (_, deploymentId, _, agent) = await TenantAsync();
        var (_, _, _, otherAgent) = await TenantAsync();
        await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub = $"customer-{Guid.NewGuid():N}", exp = now + 600, iat = now });
        async Task<string> LoggedInAsync() => (await (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("visitorToken").GetString()!;

        var first = await ConversationAsync(deploymentId, "first visit", new { }, await LoggedInAsync());
        await using (var visitor = await Server.ConsumerAsync(await LoggedInAsync(), deploymentId))
        {
            await visitor.SendAsync(new { type = "conversation.close", conversationId = first, requestId = "c" });
            await visitor.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "closed");
        }

        var second = await ConversationAsync(deploymentId, "second visit", new { }, await LoggedInAsync());
        var anonymous = await ConversationAsync(deploymentId, "anonymous", new { });

        var history = await JsonAsync(HttpMethod.Get, $"/api/v1/agent/conversations/{second}/history", agent);
        Assert.Equal([first], history.EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
        Assert.Empty((await JsonAsync(HttpMethod.Get, $"/api/v1/agent/conversations/{anonymous}/history", agent)).EnumerateArray());
        await JsonAsync(HttpMethod.Get, $"/api/v1/agent/conversations/{second}/history", otherAgent, expected: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_session_probe_answers_who_is_signed_in_without_an_error_when_nobody_is()
    {
        var nobody = await Server.Http.GetFromJsonAsync<JsonElement>("/api/v1/agent/session");
        Assert.Equal(JsonValueKind.Null, nobody.GetProperty("agent").ValueKind);

        var token = await Server.AgentTokenAsync();
        var signedIn = await JsonAsync(HttpMethod.Get, "/api/v1/agent/session", token);
        Assert.Equal("agent@demo.parley.test", signedIn.GetProperty("agent").GetProperty("email").GetString());
        var forged = await JsonAsync(HttpMethod.Get, "/api/v1/agent/session", "pat_forged");
        Assert.Equal(JsonValueKind.Null, forged.GetProperty("agent").ValueKind);
    }

    [Fact]
    public async Task Admins_list_create_and_change_only_their_own_deployments_with_real_origins()
    {
        var (_, deploymentId, admin, agent) = await TenantAsync();
        var (_, otherDeployment, otherAdmin, _) = await TenantAsync();

        var created = await JsonAsync(HttpMethod.Post, "/api/v1/admin/deployments", admin,
            new { name = " Support site ", allowedOrigins = new[] { "https://Support.Brand.example/", "https://support.brand.example" } }, HttpStatusCode.Created);
        Assert.Equal("Support site", created.GetProperty("name").GetString());
        Assert.Equal(["https://support.brand.example"], created.GetProperty("allowedOrigins").EnumerateArray().Select(o => o.GetString()));
        Assert.Contains($"data-deployment=\"{created.GetProperty("deploymentId").GetGuid()}\"", created.GetProperty("snippet").GetString(), StringComparison.Ordinal);

        var listed = (await JsonAsync(HttpMethod.Get, "/api/v1/admin/deployments", admin)).EnumerateArray().Select(d => d.GetProperty("deploymentId").GetGuid()).ToArray();
        Assert.Equal(2, listed.Length);
        Assert.Contains(deploymentId, listed);
        Assert.DoesNotContain(otherDeployment, listed);

        var changed = await JsonAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{deploymentId}/origins", admin,
            new { allowedOrigins = new[] { "https://www.brand.example", "http://localhost:3000" } });
        Assert.Equal(["https://www.brand.example", "http://localhost:3000"], changed.GetProperty("allowedOrigins").EnumerateArray().Select(o => o.GetString()));
        Assert.True((await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.AllowsOrigin("http://localhost:3000"));

        foreach (var bad in new[] { "*", "https://*.brand.example", "https://brand.example/path", "ftp://brand.example", "https://user@brand.example", "brand.example" })
        {
            var problem = await JsonAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{deploymentId}/origins", admin, new { allowedOrigins = new[] { bad } }, HttpStatusCode.BadRequest);
            Assert.Contains("is not an origin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await JsonAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{otherDeployment}/origins", admin, new { allowedOrigins = Array.Empty<string>() }, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Get, "/api/v1/admin/deployments", agent)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Post, "/api/v1/admin/deployments", agent, new { name = "x" })).StatusCode);
        Assert.Single((await JsonAsync(HttpMethod.Get, "/api/v1/admin/deployments", otherAdmin)).EnumerateArray());
        await JsonAsync(HttpMethod.Post, "/api/v1/admin/deployments", admin, new { name = "" }, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Admins_create_agents_in_their_tenant_who_can_then_sign_in()
    {
        var (tenantId, _, admin, agent) = await TenantAsync();
        var email = $"new-{Guid.NewGuid():N}@brand.example";
        var created = await JsonAsync(HttpMethod.Post, "/api/v1/admin/agents", admin,
            new { email, displayName = "Nia", password = "a-long-password", capacity = 3 }, HttpStatusCode.Created);
        Assert.Equal((tenantId, "agent", 3), (created.GetProperty("tenantId").GetGuid(), created.GetProperty("role").GetString(), created.GetProperty("capacity").GetInt32()));
        Assert.False(created.TryGetProperty("passwordHash", out _));
        Assert.StartsWith("pat_", await Server.AgentTokenAsync(email, "a-long-password"), StringComparison.Ordinal);

        var taken = await JsonAsync(HttpMethod.Post, "/api/v1/admin/agents", admin, new { email, displayName = "Again", password = "a-long-password" }, HttpStatusCode.Conflict);
        Assert.Equal("email_taken", taken.GetProperty("code").GetString());
        foreach (var bad in new object[]
                 {
                     new { email = "not-an-email", displayName = "A", password = "a-long-password" },
                     new { email = $"x{email}", displayName = "", password = "a-long-password" },
                     new { email = $"y{email}", displayName = "A", password = "short" },
                     new { email = $"z{email}", displayName = "A", password = "a-long-password", role = "owner" },
                     new { email = $"w{email}", displayName = "A", password = "a-long-password", queues = new[] { "no-such-queue" } },
                 })
        {
            await JsonAsync(HttpMethod.Post, "/api/v1/admin/agents", admin, bad, HttpStatusCode.BadRequest);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Post, "/api/v1/admin/agents", agent,
            new { email = $"v{email}", displayName = "A", password = "a-long-password", role = "admin" })).StatusCode);
    }

    [Fact]
    public async Task The_web_app_is_served_with_a_strict_policy_and_cacheable_hashed_assets()
    {
        var redirect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.Address }.GetAsync("/app");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/app/", redirect.Headers.Location?.OriginalString);

        var page = await Server.Http.GetAsync("/app/");
        page.EnsureSuccessStatusCode();
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        var html = await page.Content.ReadAsStringAsync();
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(/app/assets/[^\"]+\\.js)\"").Groups[1].Value;
        Assert.NotEmpty(script);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal); // nothing inline: the policy would block it

        var asset = await Server.Http.GetAsync(script);
        asset.EnsureSuccessStatusCode();
        Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", asset.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync("/app/assets/nope.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync("/app/assets/..%2F..%2Fappsettings.json")).StatusCode);
    }
}
