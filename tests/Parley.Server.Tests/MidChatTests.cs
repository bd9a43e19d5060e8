using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;
using Parley.Bots;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Mid-chat authentication: the bot recognises a case that needs a login, sends a login link bound
/// to the conversation, and the conversation is upgraded in place when the login completes.
/// </summary>
public sealed class MidChatTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>, IAsyncLifetime
{
    private const string Issuer = TestTokens.Issuer;
    private const string ClientSecret = "mid-chat-client-secret";
    private const string SecurityKey = "a-generated-authentication-security-key-0123456789";
    private static readonly RSA Brand = RSA.Create(2048);
    private static readonly RSA OtherBrand = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string IdToken, string Challenge, string RedirectUri)> _codes = new();
    private BrandEndpoint _idp = null!;
    private TestServer Server => fixture.Server;

    private static readonly BotSettings Bot = new()
    {
        Greeting = "Hi, I am the Acme bot.",
        Cases =
        [
            new BotCase("Statement copy", ["statement", "bank statement"], "Your statement copy is on its way to your registered address.", RequiresAuthentication: true),
            new BotCase("Opening hours", ["hours", "open"], "We are open 9 to 5."),
        ],
    };

    public async Task InitializeAsync()
    {
        _idp = await BrandEndpoint.StartAsync();
        _idp.Routes["/token"] = async context =>
        {
            var form = await context.Request.ReadFormAsync();
            var known = _codes.TryRemove(form["code"].ToString(), out var issued);
            var valid = known
                && context.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("parley:" + ClientSecret))
                && TestTokens.B64(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) == issued.Challenge
                && form["redirect_uri"] == issued.RedirectUri;
            context.Response.ContentType = "application/json";
            context.Response.StatusCode = valid ? 200 : 400;
            await context.Response.WriteAsync(valid
                ? JsonSerializer.Serialize(new { token_type = "Bearer", access_token = "at", id_token = issued.IdToken })
                : """{"error":"invalid_grant"}""");
        };
    }

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    private static string IdToken(string sub, string? nonce, RSA? key = null, string issuer = Issuer, int lifetimeSeconds = 600)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(key ?? Brand, new { iss = issuer, aud = "parley", sub, nonce, exp = now + lifetimeSeconds, iat = now, given_name = "Grace", email = "grace@example.com" });
    }

    /// <summary>The brand's login page answered the authorization request: a code for this identity.</summary>
    private string LogIn(string loginUrl, string sub, int lifetimeSeconds = 600)
    {
        var query = QueryHelpers.ParseQuery(new Uri(loginUrl).Query);
        var code = "code-" + Guid.NewGuid().ToString("N");
        _codes[code] = (IdToken(sub, query["nonce"], lifetimeSeconds: lifetimeSeconds), query["code_challenge"]!, query["redirect_uri"]!);
        return code;
    }

    /// <summary>A brand with a bot and settings for <paramref name="flow"/>, and its agent's token.</summary>
    private async Task<(Guid DeploymentId, string AgentToken)> BrandAsync(AuthenticationFlow flow = AuthenticationFlow.Code)
    {
        var (deploymentId, agentEmail) = await Server.NewTenantAsync("https://www.acme.example");
        var deployment = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var resolver = Server.Services.GetRequiredService<AuthenticationSettingsResolver>();
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = deployment.TenantId, Name = "site", Flow = flow, Issuer = Issuer, ClientId = "parley",
            KeysDocument = Brand.ExportSubjectPublicKeyInfoPem(), AuthorizationEndpoint = "https://login.acme.example/authorize?brand=acme",
            TokenEndpoint = _idp.Url("/token").ToString(), ProtectedClientSecret = resolver.Protect(ClientSecret),
            ProtectedSecurityKey = resolver.Protect(SecurityKey), CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        await Server.Store.SaveAuthenticationSettingsAsync(settings, CancellationToken.None);
        await Server.Store.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, CancellationToken.None);
        var agent = await Server.AgentTokenAsync(agentEmail);
        (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{deploymentId}/bot", await AdminTokenAsync(deployment.TenantId), Bot))
            .EnsureSuccessStatusCode();
        return (deploymentId, agent);
    }

    private Task<string> AdminTokenAsync(Guid tenantId) => Server.AdminTokenAsync(tenantId);

    /// <summary>An anonymous visitor with a started, subscribed conversation.</summary>
    private async Task<(string Token, WsClient Socket, Guid ConversationId)> VisitorAsync(Guid deploymentId)
    {
        var token = await Server.NewVisitorAsync(deploymentId);
        var socket = await Server.ConsumerAsync(token, deploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        await socket.ExpectAsync("subscribed");
        return (token, socket, conversationId);
    }

    private static async Task<JsonElement> MessageAsync(WsClient socket, string kind, string text) =>
        (await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("kind").GetString() == kind
            && f.GetProperty("message").GetProperty("text").GetString() == text)).GetProperty("message");

    /// <summary>Asks for the protected case and returns the login link the bot sent.</summary>
    private static async Task<string> AskForStatementAsync(WsClient socket, Guid conversationId)
    {
        await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = Guid.NewGuid().ToString(), text = "Can I get a bank statement, please?" });
        var requested = await MessageAsync(socket, "event", "authentication.requested");
        Assert.Equal("bot", requested.GetProperty("senderRole").GetString());
        Assert.Equal("Statement copy", requested.GetProperty("data").GetProperty("case").GetString());
        return requested.GetProperty("data").GetProperty("url").GetString()!;
    }

    private Task<HttpResponseMessage> AuthenticateAsync(string visitorToken, Guid conversationId, object body) =>
        Server.SendAsync(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/authenticate", visitorToken, body);

    [Fact]
    public async Task A_protected_case_sends_a_login_link_and_continues_in_the_same_conversation_after_the_code_flow_login()
    {
        var (deploymentId, agentToken) = await BrandAsync();
        var (anonymousToken, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using var _ = visitor;
        await MessageAsync(visitor, "text", Bot.Greeting!);
        await using var agent = await Server.AgentAsync(agentToken);
        await agent.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });

        // A case that needs no login is answered at once.
        await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "hours", text = "When are you open?" });
        await MessageAsync(visitor, "text", "We are open 9 to 5.");

        var link = await AskForStatementAsync(visitor, conversationId);
        var url = new Uri(link);
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal("login.acme.example", url.Host);
        Assert.Equal("acme", query["brand"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("parley", query["client_id"]);
        Assert.Equal(new Uri(Server.Address, "/auth/callback").ToString(), query["redirect_uri"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["nonce"]));
        var state = query["state"].ToString();
        // The agent watches the same conversation and sees the bot ask for the login.
        await MessageAsync(agent, "event", "authentication.requested");

        // The brand redirects to Parley's callback page, which hands the result to the messenger only.
        var code = LogIn(link, "grace-7");
        var callback = await Server.Http.GetAsync($"/auth/callback?code={code}&state={Uri.EscapeDataString(state)}");
        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
        Assert.Contains("frame-ancestors 'none'", callback.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("no-referrer", callback.Headers.GetValues("Referrer-Policy").Single());
        var page = await callback.Content.ReadAsStringAsync();
        Assert.Contains("https://www.acme.example", page);
        Assert.Contains("&quot;known&quot;:true", page);
        // A result in the fragment (id_token) never reaches the server: the page asks where it may post it.
        var origins = await (await Server.Http.PostAsJsonAsync("/auth/callback/origins", new { state })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(origins.GetProperty("known").GetBoolean());
        Assert.Contains(origins.GetProperty("origins").EnumerateArray(), o => o.GetString() == "https://www.acme.example");
        var unknown = await (await Server.Http.PostAsJsonAsync("/auth/callback/origins", new { state = "pls_made-up" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(unknown.GetProperty("known").GetBoolean());
        Assert.Single(unknown.GetProperty("origins").EnumerateArray());

        await visitor.SendAsync(new { type = "conversation.authenticate", conversationId, state, code, requestId = "login" });
        var session = await visitor.ExpectAsync("session");
        Assert.Equal("login", session.GetProperty("requestId").GetString());
        Assert.True(session.GetProperty("authenticated").GetBoolean());
        Assert.True(session.GetProperty("conversation").GetProperty("authenticated").GetBoolean());
        Assert.Equal(conversationId, session.GetProperty("conversation").GetProperty("id").GetGuid());

        // Both sides see the upgrade; the case continues without being asked again.
        Assert.Equal("system", (await MessageAsync(visitor, "event", "authentication.upgraded")).GetProperty("senderRole").GetString());
        await MessageAsync(visitor, "text", Bot.Cases[0].Answer!);
        await MessageAsync(agent, "event", "authentication.upgraded");
        var updated = await agent.ExpectAsync("conversation.updated", f => f.GetProperty("conversation").GetProperty("authenticated").GetBoolean());
        Assert.Equal("Statement copy", updated.GetProperty("conversation").GetProperty("botCase").GetString());

        // The same socket goes on sending as the logged-in visitor, and history is kept from seq 1.
        await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "after-login", text = "thanks" });
        await visitor.ExpectAsync("message.ack", f => f.GetProperty("clientMessageId").GetString() == "after-login");
        var authenticatedToken = session.GetProperty("visitorToken").GetString()!;
        using var history = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}/messages");
        history.Headers.Authorization = new("Bearer", authenticatedToken);
        var items = (await (await Server.Http.SendAsync(history)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(1, items[0].GetProperty("seq").GetInt64());
        Assert.Contains(items, m => m.GetProperty("clientMessageId").ValueKind == JsonValueKind.String && m.GetProperty("clientMessageId").GetString() == "hours");

        // The agent's panel shows the verified identity; the anonymous device token no longer reaches the conversation.
        using var panel = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/conversations/{conversationId}/consumer");
        panel.Headers.Authorization = new("Bearer", agentToken);
        var consumer = await (await Server.Http.SendAsync(panel)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("authenticated", consumer.GetProperty("authentication").GetString());
        Assert.Equal("grace-7", consumer.GetProperty("verified").GetProperty("subject").GetString());
        using var stale = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}");
        stale.Headers.Authorization = new("Bearer", anonymousToken);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.SendAsync(stale)).StatusCode);

        // The state was single-use: replaying it changes nothing.
        var replay = await AuthenticateAsync(authenticatedToken, conversationId, new { state, code = LogIn(link, "mallory") });
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal("invalid_grant", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_messengers_login_button_gets_a_fresh_link_that_logs_in_and_later_renews_an_ended_login_on_the_same_conversation()
    {
        var (deploymentId, _) = await BrandAsync();
        var (token, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using var _ = visitor;
        var stranger = await Server.NewVisitorAsync(deploymentId);
        Assert.Equal(HttpStatusCode.NotFound, (await LoginLinkAsync(stranger, conversationId)).StatusCode);

        // An anonymous visitor logs in from the messenger, with a login that lasts two seconds.
        var link = await LoginLinkAsync(token, conversationId);
        Assert.Equal(HttpStatusCode.OK, link.StatusCode);
        var url = (await link.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        Assert.StartsWith("https://login.acme.example/authorize?brand=acme&", url, StringComparison.Ordinal);
        var first = await AuthenticateAsync(token, conversationId, new { state = State(url), code = LogIn(url, "renewer", lifetimeSeconds: 2) });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var loggedIn = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;

        await Task.Delay(TimeSpan.FromSeconds(3)); // the login has ended
        Assert.Equal(HttpStatusCode.Unauthorized, (await Server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", loggedIn)).StatusCode);

        // The ended device asks for a new link and logs in again: the same conversation continues.
        var again = await LoginLinkAsync(loggedIn, conversationId);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var renewUrl = (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        var renewed = await AuthenticateAsync(loggedIn, conversationId, new { state = State(renewUrl), code = LogIn(renewUrl, "renewer") });
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        var body = await renewed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(conversationId, body.GetProperty("conversation").GetProperty("id").GetGuid());
        var fresh = body.GetProperty("visitorToken").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Server.SendAsync(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}", fresh)).StatusCode);
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(5));
        await using (var renewedSocket = await Server.ConsumerAsync(fresh, deploymentId))
        {
            await renewedSocket.SendAsync(new { type = "message.send", conversationId, clientMessageId = "after-renewal", text = "renewed" });
            await renewedSocket.ExpectAsync("message.ack");
            Assert.DoesNotContain(await renewedSocket.DrainAsync(TimeSpan.FromSeconds(1)), f => f.GetProperty("type").GetString() is "auth.expired" or "error");
        }


        // No link for a closed conversation.
        await using var socket = await Server.ConsumerAsync(fresh, deploymentId);
        await socket.SendAsync(new { type = "conversation.close", conversationId });
        await socket.ExpectAsync("conversation", f => f.GetProperty("conversation").GetProperty("status").GetString() == "closed");
        var closed = await LoginLinkAsync(fresh, conversationId);
        Assert.Equal(HttpStatusCode.Conflict, closed.StatusCode);
    }

    private Task<HttpResponseMessage> LoginLinkAsync(string visitorToken, Guid conversationId) =>
        Server.SendAsync(HttpMethod.Post, $"/api/v1/consumer/conversations/{conversationId}/login-link", visitorToken);

    [Fact]
    public async Task A_case_that_asks_for_an_assurance_level_does_not_run_on_a_weaker_login_however_it_came()
    {
        var (deploymentId, _) = await BrandAsync(AuthenticationFlow.Implicit);
        var deployment = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var bot = Bot with { Cases = [new BotCase("Wire transfer", ["transfer"], "Your transfer is on its way.", Acr: "urn:brand:loa:2")] };
        (await Server.SendAsync(HttpMethod.Put, $"/api/v1/admin/deployments/{deploymentId}/bot", await AdminTokenAsync(deployment.TenantId), bot)).EnsureSuccessStatusCode();
        var (token, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using var _ = visitor;
        await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "ask", text = "a transfer please" });
        var requested = await MessageAsync(visitor, "event", "authentication.requested");
        Assert.Contains("acr_values=urn%3Abrand%3Aloa%3A2", requested.GetProperty("data").GetProperty("url").GetString(), StringComparison.Ordinal);

        // The messenger's own login link asks for the same.
        var link = (await (await LoginLinkAsync(token, conversationId)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
        Assert.Contains("acr_values=urn%3Abrand%3Aloa%3A2", link, StringComparison.Ordinal);

        // The page's own token, with no acr: the login holds, but the case asks to step up instead of running.
        var login = await AuthenticateAsync(token, conversationId, new { jwt = IdToken("weak-page-login", null) });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var stepUp = await MessageAsync(visitor, "event", "authentication.requested");
        Assert.Equal("acr", stepUp.GetProperty("data").GetProperty("stepUp").GetString());
        var texts = (await Server.Store.GetMessagesAsync(conversationId, 0, 100, CancellationToken.None)).Select(m => m.Text).ToList();
        Assert.DoesNotContain("Your transfer is on its way.", texts);
    }

    [Fact]
    public async Task A_login_link_forwarded_to_someone_else_does_not_authenticate_their_conversation()
    {
        var (deploymentId, _) = await BrandAsync();
        var (attackerToken, attacker, attackerConversation) = await VisitorAsync(deploymentId);
        var (victimToken, victim, victimConversation) = await VisitorAsync(deploymentId);
        await using var a = attacker;
        await using var v = victim;
        var attackerLink = await AskForStatementAsync(attacker, attackerConversation);
        var attackerState = QueryHelpers.ParseQuery(new Uri(attackerLink).Query)["state"].ToString();

        // The victim logs in through the attacker's link; their messenger presents the result for
        // its own conversation, and the attacker cannot present it for theirs without the code.
        var victimCode = LogIn(attackerLink, "victim");
        var onVictimSide = await AuthenticateAsync(victimToken, victimConversation, new { state = attackerState, code = victimCode });
        Assert.Equal(HttpStatusCode.Unauthorized, onVictimSide.StatusCode);
        Assert.Equal("invalid_grant", (await onVictimSide.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        // Even with the code in hand, a state is bound to the conversation and consumer it was issued to.
        var link = await AskForStatementAsync(attacker, attackerConversation);
        var state = QueryHelpers.ParseQuery(new Uri(link).Query)["state"].ToString();
        var crossed = await AuthenticateAsync(victimToken, attackerConversation, new { state, code = LogIn(link, "victim") });
        Assert.Equal(HttpStatusCode.NotFound, crossed.StatusCode);

        foreach (var id in new[] { attackerConversation, victimConversation })
        {
            Assert.False((await Server.Store.GetConversationAsync(id, CancellationToken.None))!.Authenticated);
        }

        Assert.DoesNotContain(await Server.Store.GetMessagesAsync(victimConversation, 0, 100, CancellationToken.None), m => m.Text == "authentication.upgraded");
        _ = attackerToken;
    }

    /// <summary>What a custom login page returns: an HS256 assertion over the login link's nonce, signed with the security key.</summary>
    private static string Assertion(string url, string key, string? nonce = null)
    {
        var query = QueryHelpers.ParseQuery(new Uri(url).Query);
        Assert.Equal("id_token", query["response_type"]);
        Assert.False(query.ContainsKey("code_challenge"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = TestTokens.B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var payload = TestTokens.B64(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = Issuer, aud = "parley", sub = "pega-42", nonce = nonce ?? query["nonce"].ToString(), iat = now, exp = now + 300, given_name = "Pat",
        }));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + TestTokens.B64(mac);
    }

    [Fact]
    public async Task A_generated_security_key_takes_over_after_an_overlap_and_login_links_last_as_long_as_the_settings_say()
    {
        var (deploymentId, _) = await BrandAsync(AuthenticationFlow.Implicit);
        var deployment = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var settings = (await Server.Store.GetAuthenticationSettingsAsync(deployment.AuthenticationSettingsId!.Value, CancellationToken.None))!;
        await Server.Store.SaveAuthenticationSettingsAsync(settings with { LoginLinkLifetimeMinutes = 2, UpdatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var admin = await AdminTokenAsync(deployment.TenantId);
        var rotate = $"/api/v1/admin/authentication-settings/{settings.Id}/security-key";

        var (token, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using (visitor)
        {
            var link = await (await LoginLinkAsync(token, conversationId)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.InRange(link.GetProperty("expiresAt").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1.5), TimeSpan.FromMinutes(2));

            // Generated and shown once; the key the brand's page still uses works during the overlap.
            var generated = await (await Server.SendAsync(HttpMethod.Post, rotate, admin, new { })).Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(generated.GetProperty("secret").GetString()!.Length >= 43);
            Assert.True(generated.GetProperty("previousValidUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));
            var url = link.GetProperty("url").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await AuthenticateAsync(token, conversationId, new { state = State(url), assertion = Assertion(url, SecurityKey) })).StatusCode);
        }

        // A rotation without overlap: the key before it stops at once.
        var (next, nextVisitor, nextConversation) = await VisitorAsync(deploymentId);
        await using (nextVisitor)
        {
            var fresh = (await (await Server.SendAsync(HttpMethod.Post, rotate, admin, new { overlapHours = 0 })).Content.ReadFromJsonAsync<JsonElement>())
                .GetProperty("secret").GetString()!;
            var url = (await (await LoginLinkAsync(next, nextConversation)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
            Assert.Equal(HttpStatusCode.Unauthorized, (await AuthenticateAsync(next, nextConversation, new { state = State(url), assertion = Assertion(url, SecurityKey) })).StatusCode);
            url = (await (await LoginLinkAsync(next, nextConversation)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await AuthenticateAsync(next, nextConversation, new { state = State(url), assertion = Assertion(url, fresh) })).StatusCode);
        }
    }

    [Fact]
    public async Task A_custom_login_page_calls_back_with_an_assertion_signed_with_the_security_key()
    {
        var (deploymentId, _) = await BrandAsync(AuthenticationFlow.Implicit);
        var (token, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using var _ = visitor;

        // Signed with the wrong key, or for another login's nonce: refused, nothing changed.
        var link = await AskForStatementAsync(visitor, conversationId);
        var wrongKey = await AuthenticateAsync(token, conversationId, new { state = State(link), assertion = Assertion(link, "not-the-security-key") });
        Assert.Equal("invalid_token", (await wrongKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        link = await AskForStatementAsync(visitor, conversationId);
        var wrongNonce = await AuthenticateAsync(token, conversationId, new { state = State(link), assertion = Assertion(link, SecurityKey, nonce: "another-login") });
        Assert.Equal(HttpStatusCode.Unauthorized, wrongNonce.StatusCode);
        Assert.False((await Server.Store.GetConversationAsync(conversationId, CancellationToken.None))!.Authenticated);

        link = await AskForStatementAsync(visitor, conversationId);
        var response = await AuthenticateAsync(token, conversationId, new { state = State(link), assertion = Assertion(link, SecurityKey) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("conversation").GetProperty("authenticated").GetBoolean());
        await MessageAsync(visitor, "text", Bot.Cases[0].Answer!);
        var identity = await Server.Store.GetVerifiedIdentityAsync(body.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        Assert.Equal("Pat", identity!.VerifiedClaims["given_name"]);
    }

    private static string State(string link) => QueryHelpers.ParseQuery(new Uri(link).Query)["state"].ToString();

    [Fact]
    public async Task The_pages_own_token_upgrades_the_conversation_and_a_token_from_another_brand_does_not()
    {
        var (deploymentId, _) = await BrandAsync(AuthenticationFlow.Implicit);
        var (token, visitor, conversationId) = await VisitorAsync(deploymentId);
        await using var _ = visitor;
        await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "first", text = "hello" });
        await visitor.ExpectAsync("message.ack");

        var foreign = await AuthenticateAsync(token, conversationId, new { jwt = IdToken("grace", null, OtherBrand, "https://idp.other.example") });
        Assert.Equal(HttpStatusCode.Unauthorized, foreign.StatusCode);
        Assert.Equal("invalid_token", (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var unsigned = await AuthenticateAsync(token, conversationId, new { code = "a-code-without-state" });
        Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);
        Assert.False((await Server.Store.GetConversationAsync(conversationId, CancellationToken.None))!.Authenticated);

        var upgraded = await AuthenticateAsync(token, conversationId, new { jwt = IdToken("grace-page", null) });
        Assert.Equal(HttpStatusCode.OK, upgraded.StatusCode);
        var body = await upgraded.Content.ReadFromJsonAsync<JsonElement>();

        // Another login on the now-authenticated conversation cannot hand it to a different person.
        var hijack = await AuthenticateAsync(body.GetProperty("visitorToken").GetString()!, conversationId, new { jwt = IdToken("someone-else", null) });
        Assert.Equal(HttpStatusCode.Unauthorized, hijack.StatusCode);
        Assert.Equal("invalid_grant", (await hijack.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var stored = (await Server.Store.GetConversationAsync(conversationId, CancellationToken.None))!;
        Assert.Equal(body.GetProperty("consumerId").GetGuid(), stored.ConsumerId);
        Assert.Contains(await Server.Store.GetMessagesAsync(conversationId, 0, 100, CancellationToken.None), m => m.ClientMessageId == "first");
    }

    [Fact]
    public async Task Bot_settings_are_checked_when_saved_and_only_the_tenants_admins_reach_them()
    {
        var (deploymentId, agentToken) = await BrandAsync();
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var admin = await AdminTokenAsync(tenantId);

        Task<HttpResponseMessage> SendAsync(HttpMethod method, string token, object? body = null) =>
            Server.SendAsync(method, $"/api/v1/admin/deployments/{deploymentId}/bot", token, body);

        var invalid = await SendAsync(HttpMethod.Put, admin, new
        {
            cases = new object[]
            {
                new { name = "A", keywords = new[] { "a" }, answer = "x" },
                new { name = "A", keywords = new[] { "b" }, answer = "y" },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("cases[1].name", (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        var noKeywords = await SendAsync(HttpMethod.Put, admin, new { cases = new[] { new { name = "A", keywords = new[] { "!!" }, answer = "x" } } });
        Assert.Equal(HttpStatusCode.BadRequest, noKeywords.StatusCode);

        var current = await (await SendAsync(HttpMethod.Get, admin)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Statement copy", current.GetProperty("cases")[0].GetProperty("name").GetString());
        Assert.True(current.GetProperty("cases")[0].GetProperty("requiresAuthentication").GetBoolean());

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, agentToken)).StatusCode);
        var (_, otherAgent) = await Server.NewTenantAsync();
        var otherTenant = (await Server.Store.FindAgentByEmailAsync(otherAgent, CancellationToken.None))!.TenantId;
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, await AdminTokenAsync(otherTenant))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Put, await AdminTokenAsync(otherTenant), new { greeting = "pwned" })).StatusCode);
    }

    [Fact]
    public async Task An_expired_login_link_is_refused_and_changes_nothing()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var (deploymentId, _) = await server.NewTenantAsync("https://www.acme.example");
        var settings = await TestTokens.AttachSettingsAsync(server, deploymentId, Brand, now: clock.GetUtcNow());
        await server.Store.SaveAuthenticationSettingsAsync(settings with { AuthorizationEndpoint = "https://login.acme.example/authorize" }, CancellationToken.None);
        await server.Store.SetDeploymentBotAsync(deploymentId, Bot, CancellationToken.None);
        var token = await server.NewVisitorAsync(deploymentId);
        await using var socket = await server.ConsumerAsync(token, deploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        var link = await AskForStatementAsync(socket, conversationId);
        var nonce = QueryHelpers.ParseQuery(new Uri(link).Query)["nonce"].ToString();

        clock.Advance(TimeSpan.FromMinutes(11));
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(Brand, new { iss = Issuer, aud = "parley", sub = "late", nonce, exp = now + 600, iat = now });
        await socket.SendAsync(new { type = "conversation.authenticate", conversationId, state = State(link), jwt, requestId = "late" });
        var refused = await socket.ExpectAsync("error", f => f.GetProperty("requestId").GetString() == "late");

        Assert.Equal("invalid_grant", refused.GetProperty("code").GetString());
        Assert.False((await server.Store.GetConversationAsync(conversationId, CancellationToken.None))!.Authenticated);
        Assert.DoesNotContain(await server.Store.GetMessagesAsync(conversationId, 0, 100, CancellationToken.None), m => m.Text == "authentication.upgraded");
    }
}
