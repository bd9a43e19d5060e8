using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Server.Tests;

/// <summary>Pre-chat implicit flow: the page's JWT authenticates the visitor, on every device.</summary>
public sealed class AuthenticatedSessionTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private const string Issuer = TestTokens.Issuer;
    private static readonly RSA Brand = RSA.Create(2048);
    private static readonly RSA Stranger = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    private static string Jwt(string sub, long expOffset = 600, string issuer = Issuer, RSA? key = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(key ?? Brand, new { iss = issuer, aud = "parley", sub, exp = now + expOffset, iat = now - 5, given_name = "Ada" });
    }

    /// <summary>A brand whose deployment takes the brand's JWTs.</summary>
    private async Task<Guid> AuthenticatedDeploymentAsync()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        return deploymentId;
    }

    private Task<HttpResponseMessage> SessionAsync(Guid deploymentId, string? jwt) =>
        Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt });

    [Fact]
    public async Task The_same_visitor_on_two_devices_gets_the_same_conversation_and_history()
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var sub = "customer-" + Guid.NewGuid().ToString("N")[..8];

        var laptop = await (await SessionAsync(deploymentId, Jwt(sub))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(laptop.GetProperty("authenticated").GetBoolean());
        Guid conversationId;
        await using (var device = await Server.ConsumerAsync(laptop.GetProperty("visitorToken").GetString()!, deploymentId))
        {
            await device.SendAsync(new { type = "conversation.start" });
            conversationId = (await device.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await device.SendAsync(new { type = "message.send", conversationId, clientMessageId = "from-laptop", text = "started on my laptop" });
            await device.ExpectAsync("message.ack");
        }

        var phoneResponse = await SessionAsync(deploymentId, Jwt(sub));
        var phone = await phoneResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(laptop.GetProperty("consumerId").GetGuid(), phone.GetProperty("consumerId").GetGuid());
        Assert.NotEqual(laptop.GetProperty("visitorToken").GetString(), phone.GetProperty("visitorToken").GetString());
        Assert.Contains(phone.GetProperty("conversations").EnumerateArray(), c => c.GetProperty("id").GetGuid() == conversationId);

        await using var second = await Server.ConsumerAsync(phone.GetProperty("visitorToken").GetString()!, deploymentId);
        await second.SendAsync(new { type = "conversation.start" });
        Assert.Equal(conversationId, (await second.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid());
        await second.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        var history = await second.ExpectAsync("message");
        Assert.Equal("started on my laptop", history.GetProperty("message").GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_anonymous_visitor_on_the_same_deployment_never_sees_the_authenticated_conversation()
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var authenticated = await (await SessionAsync(deploymentId, Jwt("vip-1"))).Content.ReadFromJsonAsync<JsonElement>();
        await using (var device = await Server.ConsumerAsync(authenticated.GetProperty("visitorToken").GetString()!, deploymentId))
        {
            await device.SendAsync(new { type = "conversation.start" });
            await device.ExpectAsync("conversation");
        }

        var anonymous = await (await SessionAsync(deploymentId, jwt: null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.False(anonymous.GetProperty("authenticated").GetBoolean());
        Assert.NotEqual(authenticated.GetProperty("consumerId").GetGuid(), anonymous.GetProperty("consumerId").GetGuid());
        Assert.Empty(anonymous.GetProperty("conversations").EnumerateArray());
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "expired", "exp" },
        { "other-issuer", "iss" },
        { "forged", "signature" },
        { "garbage", "format" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_bad_token_is_refused_with_the_oauth_error_and_changes_nothing(string id, string check)
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var jwt = id switch
        {
            "expired" => Jwt("u-1", expOffset: -3600),
            "other-issuer" => Jwt("u-1", issuer: "https://evil.example"),
            "forged" => Jwt("u-1", key: Stranger),
            _ => "not-a-token",
        };

        var response = await SessionAsync(deploymentId, jwt);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_token", problem.GetProperty("error").GetString());
        Assert.Equal(check, problem.GetProperty("failedCheck").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("error_description").GetString()));
        Assert.StartsWith("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_this_server_cannot_use_are_a_clear_error_that_keeps_the_details_in_the_log()
    {
        // Written around the admin API's checks (which refuse it): a plain-http key URL off loopback.
        var (deploymentId, _) = await Server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        await Server.Store.SaveAuthenticationSettingsAsync(
            settings with { KeysDocument = null, KeysUrl = "http://keys.brand.example/jwks", UpdatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);

        var response = await SessionAsync(deploymentId, Jwt("u-1"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("authentication_misconfigured", problem.GetProperty("code").GetString());
        Assert.DoesNotContain("keys.brand.example", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deployment_without_authentication_settings_refuses_a_jwt()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var response = await SessionAsync(deploymentId, Jwt("u-1"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Settings_in_use_by_a_deployment_cannot_be_deleted()
    {
        var admin = await Server.AgentTokenAsync(Demo.DemoOptions.AdminEmail);
        async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Authorization = new("Bearer", admin);
            return await Server.Http.SendAsync(request);
        }

        var created = await (await Send(HttpMethod.Post, "/api/v1/admin/authentication-settings", new
        {
            name = "demo", issuer = Issuer, clientId = "parley", keysDocument = Brand.ExportSubjectPublicKeyInfoPem(),
        })).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();
        var otherDeployment = (await Server.NewTenantAsync()).DeploymentId;

        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Put, $"/api/v1/admin/deployments/{otherDeployment}/authentication-settings", new { settingsId = id })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Put, $"/api/v1/admin/deployments/{TestServer.DemoDeployment}/authentication-settings", new { settingsId = id })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Delete, $"/api/v1/admin/authentication-settings/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Put, $"/api/v1/admin/deployments/{TestServer.DemoDeployment}/authentication-settings", new { settingsId = (Guid?)null })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, $"/api/v1/admin/authentication-settings/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_agent_sees_verified_claims_and_context_apart_from_the_pages_unverified_attributes()
    {
        var (deploymentId, agentEmail) = await Server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        await Server.Store.SaveAuthenticationSettingsAsync(
            settings with { ClaimMapping = new Dictionary<string, string> { ["given_name"] = "Vorname" }, UpdatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var agent = await Server.AgentTokenAsync(agentEmail);

        async Task<JsonElement> PanelAsync(Guid conversationId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/conversations/{conversationId}/consumer");
            request.Headers.Authorization = new("Bearer", agent);
            var response = await Server.Http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        async Task<Guid> StartAsync(string? jwt, object attributes)
        {
            var session = await (await SessionAsync(deploymentId, jwt)).Content.ReadFromJsonAsync<JsonElement>();
            await using var device = await Server.ConsumerAsync(session.GetProperty("visitorToken").GetString()!, deploymentId);
            await device.SendAsync(new { type = "conversation.start", attributes });
            return (await device.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        }

        // The page claims to be someone else: that stays unverified and never overrides the token.
        var authenticated = await PanelAsync(await StartAsync(Jwt("ada-1"), new { given_name = "Mallory", cart = "1200" }));
        var anonymous = await PanelAsync(await StartAsync(null, new { given_name = "Eve" }));

        Assert.Equal("authenticated", authenticated.GetProperty("authentication").GetString());
        Assert.Equal("ada-1", authenticated.GetProperty("verified").GetProperty("subject").GetString());
        Assert.Equal("Ada", authenticated.GetProperty("verified").GetProperty("claims").GetProperty("given_name").GetString());
        Assert.Equal("Vorname", authenticated.GetProperty("verified").GetProperty("labels").GetProperty("given_name").GetString());
        Assert.Equal("Mallory", authenticated.GetProperty("unverified").GetProperty("engagementAttributes").GetProperty("given_name").GetString());
        Assert.Equal("1200", authenticated.GetProperty("unverified").GetProperty("engagementAttributes").GetProperty("cart").GetString());
        Assert.Equal("anonymous", anonymous.GetProperty("authentication").GetString());
        Assert.Equal(JsonValueKind.Null, anonymous.GetProperty("verified").ValueKind);
        Assert.Equal("Eve", anonymous.GetProperty("unverified").GetProperty("engagementAttributes").GetProperty("given_name").GetString());
    }

    [Fact]
    public async Task After_the_authentication_expires_an_open_socket_cannot_send_and_a_fresh_token_continues_the_conversation()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var (deploymentId, agentEmail) = await server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(server, deploymentId, Brand, sessionTtlMinutes: 15, now: clock.GetUtcNow());

        var session = await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Jwt("expiring", expOffset: 3600) }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(clock.GetUtcNow().AddMinutes(15), session.GetProperty("expiresAt").GetDateTimeOffset());
        await using var device = await server.ConsumerAsync(session.GetProperty("visitorToken").GetString()!, deploymentId);
        await device.SendAsync(new { type = "conversation.start" });
        var conversationId = (await device.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await device.SendAsync(new { type = "message.send", conversationId, clientMessageId = "before", text = "before expiry" });
        await device.ExpectAsync("message.ack");

        clock.Advance(TimeSpan.FromMinutes(16));
        // Told the moment it happens, before trying to send.
        var expired = await device.ExpectAsync("auth.expired");
        Assert.Equal(session.GetProperty("expiresAt").GetDateTimeOffset(), expired.GetProperty("expiredAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        await device.SendAsync(new { type = "message.send", conversationId, clientMessageId = "after", text = "after expiry" });
        var refused = await device.NextAsync(f => f.GetProperty("type").GetString() is "error" or "message.ack");

        Assert.Equal("authentication_expired", refused.GetProperty("code").GetString());
        await device.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0, requestId = "late-subscribe" });
        var subscribeRefused = await device.ExpectAsync("error", f => f.TryGetProperty("requestId", out var r) && r.GetString() == "late-subscribe");
        Assert.Equal("authentication_expired", subscribeRefused.GetProperty("code").GetString());
        Assert.DoesNotContain(await server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None), m => m.ClientMessageId == "after");

        // The agent sees that the identity is no longer current.
        var agent = await server.AgentTokenAsync(agentEmail);
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/conversations/{conversationId}/consumer"))
        {
            request.Headers.Authorization = new("Bearer", agent);
            var panel = await (await server.Http.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("expired", panel.GetProperty("authentication").GetString());
        }

        // Renewal: a fresh token (minted after the clock moved) opens a new session on the same conversation.
        var renewed = await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Jwt("expiring", expOffset: 3600 + 16 * 60) }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(renewed.GetProperty("conversations").EnumerateArray(), c => c.GetProperty("id").GetGuid() == conversationId);
    }

    [Fact]
    public async Task A_token_accepted_within_the_clock_skew_after_its_exp_gets_a_session_that_ends_in_the_future()
    {
        // The token expired 0.1 s ago by Parley's clock; the brand's clock may be behind, so the
        // clock skew (60 s) lets it through. The session must not have ended before it starts.
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).AddMilliseconds(100));
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var (deploymentId, _) = await server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(server, deploymentId, Brand, now: clock.GetUtcNow());
        var exp = clock.GetUtcNow().ToUnixTimeSeconds();
        string Token(long expires) => TestTokens.Rs256(Brand, new { iss = Issuer, aud = "parley", sub = "late-1", exp = expires, iat = expires - 600 });

        var late = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Token(exp) });
        Assert.Equal(HttpStatusCode.Created, late.StatusCode);
        var session = await late.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(session.GetProperty("authenticated").GetBoolean());
        var expiresAt = session.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(exp).AddSeconds(60), expiresAt); // exp + clock skew: when Parley stops accepting the token itself
        await using (var device = await server.ConsumerAsync(session.GetProperty("visitorToken").GetString()!, deploymentId))
        {
            await device.SendAsync(new { type = "conversation.start", requestId = "late" });
            await device.ExpectAsync("conversation"); // the session works
        }

        // A token still before its exp: the session ends at its exp, as before.
        var current = await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Token(exp + 300) })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(exp + 300), current.GetProperty("expiresAt").GetDateTimeOffset());

        // Past exp + skew the token itself is refused.
        clock.Advance(TimeSpan.FromSeconds(60));
        var refused = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = Token(exp) });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("exp", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("failedCheck").GetString());
    }

    [Fact]
    public async Task On_a_device_with_both_the_authenticated_conversation_wins_and_the_anonymous_one_returns_when_it_ends_or_on_logout()
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var sub = "both-" + Guid.NewGuid().ToString("N")[..8];

        async Task<Guid> StartAsync(string token)
        {
            await using var device = await Server.ConsumerAsync(token, deploymentId);
            await device.SendAsync(new { type = "conversation.start" });
            return (await device.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        }

        async Task<JsonElement> SessionWithDeviceAsync(string? jwt, string deviceToken) =>
            await (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt, visitorToken = deviceToken }))
                .Content.ReadFromJsonAsync<JsonElement>();

        var anonymousToken = await Server.NewVisitorAsync(deploymentId);
        var anonymousConversation = await StartAsync(anonymousToken);
        var laptop = await (await SessionAsync(deploymentId, Jwt(sub))).Content.ReadFromJsonAsync<JsonElement>();
        var authenticatedConversation = await StartAsync(laptop.GetProperty("visitorToken").GetString()!);

        // Logging in on this device: the authenticated conversation takes priority.
        var phone = await SessionWithDeviceAsync(Jwt(sub), anonymousToken);
        Assert.Equal(authenticatedConversation, phone.GetProperty("showConversationId").GetGuid());
        Assert.DoesNotContain(phone.GetProperty("conversations").EnumerateArray(), c => c.GetProperty("id").GetGuid() == anonymousConversation);

        // Logged out (only the anonymous token left): the anonymous conversation is there, the authenticated one is not served.
        var loggedOut = await SessionWithDeviceAsync(null, anonymousToken);
        Assert.False(loggedOut.GetProperty("authenticated").GetBoolean());
        Assert.Equal(anonymousConversation, loggedOut.GetProperty("showConversationId").GetGuid());
        using (var peek = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/consumer/conversations/{authenticatedConversation}"))
        {
            peek.Headers.Authorization = new("Bearer", anonymousToken);
            Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.SendAsync(peek)).StatusCode);
        }

        // Once the authenticated conversation ends, the next login shows the device's anonymous one, still anonymous.
        var phoneToken = phone.GetProperty("visitorToken").GetString()!;
        await using (var device = await Server.ConsumerAsync(phoneToken, deploymentId))
        {
            await device.SendAsync(new { type = "conversation.close", conversationId = authenticatedConversation });
            await device.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "closed");
        }

        var again = await SessionWithDeviceAsync(Jwt(sub), anonymousToken);
        Assert.Equal(anonymousConversation, again.GetProperty("showConversationId").GetGuid());
        Assert.False((await Server.Store.GetConversationAsync(anonymousConversation, CancellationToken.None))!.Authenticated);

        // Clear history on one device unlinks that device only; the customer's other devices keep the history.
        await using (var device = await Server.ConsumerAsync(phoneToken, deploymentId))
        {
            await device.SendAsync(new { type = "conversation.resume", conversationId = authenticatedConversation });
            await device.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "open");
            await device.SendAsync(new { type = "history.clear", conversationId = authenticatedConversation });
            await device.ExpectAsync("history.cleared");
        }

        using (var cleared = new HttpRequestMessage(HttpMethod.Get, "/api/v1/consumer/conversations"))
        {
            cleared.Headers.Authorization = new("Bearer", phoneToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Server.Http.SendAsync(cleared)).StatusCode);
        }

        var elsewhere = await (await SessionAsync(deploymentId, Jwt(sub))).Content.ReadFromJsonAsync<JsonElement>();
        var kept = elsewhere.GetProperty("conversations").EnumerateArray().Single(c => c.GetProperty("id").GetGuid() == authenticatedConversation);
        Assert.Equal("closed", kept.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_ended_login_is_renewed_by_a_fresh_token_on_the_authenticate_route_and_nowhere_else()
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var sub = "customer-" + Guid.NewGuid().ToString("N")[..8];
        var session = await (await SessionAsync(deploymentId, Jwt(sub, expOffset: 2))).Content.ReadFromJsonAsync<JsonElement>();
        var token = session.GetProperty("visitorToken").GetString()!;
        Guid conversationId;
        await using (var socket = await Server.ConsumerAsync(token, deploymentId))
        {
            await socket.SendAsync(new { type = "conversation.start" });
            conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        }

        await Task.Delay(TimeSpan.FromSeconds(3)); // the token, and so the device's login, has ended
        var ended = await Server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", token);
        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        Assert.Equal("authentication_expired", (await ended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var renewed = await Server.SendAsync(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/authenticate", token, new { jwt = Jwt(sub) });

        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        var body = await renewed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(conversationId, body.GetProperty("conversation").GetProperty("id").GetGuid());
        var fresh = body.GetProperty("visitorToken").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", fresh)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", token)).StatusCode);
    }

    [Fact]
    public async Task An_authenticated_only_deployment_refuses_anonymous_visitors_and_takes_logged_in_ones()
    {
        var deploymentId = await AuthenticatedDeploymentAsync();
        var anonymous = await Server.NewVisitorAsync(deploymentId); // before the setting: an anonymous device exists
        await Server.Store.SetDeploymentMessengerAsync(deploymentId, new Tenants.MessengerSettings { AuthenticatedOnly = true }, CancellationToken.None);

        var config = await Server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{deploymentId}/messenger");
        Assert.True(config.GetProperty("authenticatedOnly").GetBoolean());
        foreach (var body in new object[] { new { deploymentId }, new { deploymentId, visitorToken = anonymous } })
        {
            var refused = await Server.Http.PostAsJsonAsync("/api/v1/sessions", body);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("authentication_required", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }

        // A socket the anonymous device still has cannot start a conversation either.
        await using (var socket = await Server.ConsumerAsync(anonymous, deploymentId))
        {
            await socket.SendAsync(new { type = "conversation.start", requestId = "start" });
            Assert.Equal("authentication_required", (await socket.ExpectAsync("error", f => f.GetProperty("requestId").GetString() == "start")).GetProperty("code").GetString());
        }

        var loggedIn = await SessionAsync(deploymentId, Jwt("customer-" + Guid.NewGuid().ToString("N")[..8]));
        Assert.Equal(HttpStatusCode.Created, loggedIn.StatusCode);
        var token = (await loggedIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, visitorToken = token })).StatusCode);
        await using var customer = await Server.ConsumerAsync(token, deploymentId);
        await customer.SendAsync(new { type = "conversation.start" });
        await customer.ExpectAsync("conversation");
    }
}
