using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Parley.Authentication;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0: a logout at the brand's identity provider ends the
/// customer's device sessions in Parley, closes their sockets and tells agents; forged, replayed and
/// malformed logout tokens are refused with 400 and change nothing.
/// </summary>
public sealed class BackChannelLogoutTests
{
    private const string ClientSecret = "parley-client-secret-for-oidc-provider";
    private const string PageRedirect = "http://localhost:5080/chat";

    [Fact]
    public async Task A_logout_at_oidc_provider_signs_the_customer_out_of_every_device_and_agents_see_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var provider = await OidcProvider.StartAsync(ClientSecret, PageRedirect);
        var (deploymentId, _) = await server.NewTenantAsync("http://localhost:5080");
        var settings = await TestTokens.AttachOidcProviderAsync(server, deploymentId, provider, ClientSecret, DateTimeOffset.UtcNow);
        await provider.SetBackChannelLogoutAsync(new Uri(server.Address, $"/auth/backchannel-logout/{settings.Id}"));

        async Task<string> LogInAsync(string account)
        {
            var login = await (await server.Http.PostAsJsonAsync("/api/v1/sessions/login", new { deploymentId, redirectUri = PageRedirect }))
                .Content.ReadFromJsonAsync<JsonElement>();
            var back = QueryHelpers.ParseQuery((await OidcBrowser.AuthorizeAsync(login.GetProperty("authorizationUrl").GetString()!, account, PageRedirect)).Query);
            var session = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, code = back["code"].ToString(), state = back["state"].ToString(), redirectUri = PageRedirect });
            Assert.Equal(HttpStatusCode.Created, session.StatusCode);
            return (await session.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
        }

        var phone = await LogInAsync("alice");
        var laptop = await LogInAsync("alice");
        var bob = await LogInAsync("bob");
        await using var phoneSocket = await server.ConsumerAsync(phone, deploymentId);
        await phoneSocket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await phoneSocket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await using var bobSocket = await server.ConsumerAsync(bob, deploymentId);

        Assert.Equal("logged-out alice", await provider.LogOutAsync("alice"));

        await SessionRevocationTests.AssertEndedAsync(phoneSocket);
        foreach (var token in new[] { phone, laptop })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", token)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", bob)).StatusCode);
        await bobSocket.SendAsync(new { type = "ping" });
        await bobSocket.ExpectAsync("pong");
        var events = (await server.Store.GetMessagesAsync(conversationId, 0, 50, CancellationToken.None)).Select(m => m.Text).ToList();
        Assert.Contains("authentication.logged_out", events);
        var audited = await server.Store.ListAuditEventsAsync(settings.TenantId, Audit.AuditKinds.Logout, null, 10, CancellationToken.None);
        Assert.Equal("alice", Assert.Single(audited).Subject);
    }

    private static readonly RSA Brand = RSA.Create(2048);
    private static readonly RSA Forger = RSA.Create(2048);

    /// <summary>A logout token valid for an hour: the theory's rows are made when the tests are found, minutes before they run.</summary>
    private static string LogoutToken(Action<Dictionary<string, object>>? change = null, RSA? key = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = TestTokens.Issuer, ["aud"] = "parley", ["iat"] = now, ["exp"] = now + 3600, ["jti"] = Guid.NewGuid().ToString(),
            ["sub"] = "C-1815", ["events"] = new Dictionary<string, object> { [BackChannelLogout.LogoutEvent] = new Dictionary<string, object>() },
        };
        change?.Invoke(claims);
        return TestTokens.Rs256(key ?? Brand, claims);
    }

    public static TheoryData<string, string?, string> Refusals => new()
    {
        { "no logout_token", null, "request" },
        { "not a JWT", "not-a-token", "format" },
        { "forged signature", LogoutToken(key: Forger), "signature" },
        { "another audience", LogoutToken(c => c["aud"] = "someone-else"), "aud" },
        { "another issuer", LogoutToken(c => c["iss"] = "https://evil.example"), "iss" },
        { "expired", LogoutToken(c => { c["iat"] = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds(); c["exp"] = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(); }), "exp" },
        { "no events", LogoutToken(c => c.Remove("events")), "events" },
        { "another event", LogoutToken(c => c["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/other"] = new Dictionary<string, object>() }), "events" },
        { "a nonce", LogoutToken(c => c["nonce"] = "n-1"), "nonce" },
        { "no jti", LogoutToken(c => c.Remove("jti")), "jti" },
        { "sid only", LogoutToken(c => { c.Remove("sub"); c["sid"] = "s-1"; }), "sub" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_bad_logout_token_is_refused_with_400_and_ends_nothing(string id, string? token, string check)
    {
        await using var server = await TestServer.StartAsync();
        var (deploymentId, _) = await server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(server, deploymentId, Brand);
        var visitor = (await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = PageToken() }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;

        var response = await PostAsync(server, settings.Id, token);

        Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{id}: {response.StatusCode}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("invalid_request", check), (problem.GetProperty("error").GetString(), problem.GetProperty("failedCheck").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Get, "/api/v1/consumer/conversations", visitor)).StatusCode);
    }

    [Fact]
    public async Task A_logout_token_counts_once_and_an_unknown_record_is_not_found()
    {
        await using var server = await TestServer.StartAsync();
        var (deploymentId, _) = await server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(server, deploymentId, Brand);
        var token = LogoutToken();

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(server, settings.Id, token)).StatusCode);
        var replayed = await PostAsync(server, settings.Id, token);
        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Equal("jti", (await replayed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("failedCheck").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(server, Guid.NewGuid(), LogoutToken())).StatusCode);
    }

    private static string PageToken()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "C-1815", iat = now, exp = now + 600 });
    }

    private static Task<HttpResponseMessage> PostAsync(TestServer server, Guid settingsId, string? token) =>
        server.Http.PostAsync($"/auth/backchannel-logout/{settingsId}",
            new FormUrlEncodedContent(token is null ? [] : new Dictionary<string, string> { ["logout_token"] = token }));
}
