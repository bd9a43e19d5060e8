using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;
using Parley.Bots;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The code flow against a real, independent OpenID Provider (npm oidc-provider): discovery, JWKS,
/// client_secret_basic, PKCE and nonce, before the chat and mid-chat, across a signing-key rotation.
/// </summary>
public sealed class OidcProviderTests
{
    private const string ClientSecret = "parley-client-secret-for-oidc-provider";
    private const string PageRedirect = "http://localhost:5080/chat";

    /// <summary>An anonymous visitor with a started, subscribed conversation.</summary>
    private static async Task<(WsClient Socket, Guid ConversationId)> AnonymousChatAsync(TestServer server, Guid deploymentId)
    {
        var socket = await server.ConsumerAsync(await server.NewVisitorAsync(deploymentId), deploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        return (socket, conversationId);
    }

    [Fact]
    public async Task Code_flow_logins_at_oidc_provider_work_before_and_mid_chat_and_survive_its_key_rotation()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var callback = new Uri(server.Address, LoginLinks.CallbackPath).ToString();
        await using var provider = await OidcProvider.StartAsync(ClientSecret, PageRedirect, callback);

        var (deploymentId, _) = await server.NewTenantAsync("http://localhost:5080");
        await TestTokens.AttachOidcProviderAsync(server, deploymentId, provider, ClientSecret, clock.GetUtcNow());

        // Before the chat: Parley starts the login, the provider authenticates, Parley exchanges the code.
        var login = await (await server.Http.PostAsJsonAsync("/api/v1/sessions/login", new { deploymentId, redirectUri = PageRedirect }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var authorizationUrl = login.GetProperty("authorizationUrl").GetString()!;
        Assert.StartsWith(provider.Issuer + "auth?", authorizationUrl);
        var back = QueryHelpers.ParseQuery((await OidcBrowser.AuthorizeAsync(authorizationUrl, "alice", PageRedirect)).Query);
        Assert.Equal(login.GetProperty("state").GetString(), back["state"]);
        var session = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, code = back["code"].ToString(), state = back["state"].ToString(), redirectUri = PageRedirect });
        Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        var alice = await session.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(alice.GetProperty("authenticated").GetBoolean());
        var identity = await server.Store.GetVerifiedIdentityAsync(alice.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        Assert.Equal(("alice", "alice@oidc-provider.example"), (identity!.Subject, identity.VerifiedClaims["email"]));

        // Mid-chat: an anonymous visitor asks for a protected case; the login link goes to the provider.
        await server.Store.SetDeploymentBotAsync(deploymentId, new BotSettings
        {
            Cases = [new BotCase("Statement copy", ["statement"], "Here is your statement.", RequiresAuthentication: true)],
        }, CancellationToken.None);
        var (socket, conversationId) = await AnonymousChatAsync(server, deploymentId);
        await using var _ = socket;

        async Task<JsonElement> LogInMidChatAsync(string account)
        {
            await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = Guid.NewGuid().ToString(), text = "my statement please" });
            var link = (await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "authentication.requested"))
                .GetProperty("message").GetProperty("data").GetProperty("url").GetString()!;
            var returned = QueryHelpers.ParseQuery((await OidcBrowser.AuthorizeAsync(link, account, callback)).Query);
            await socket.SendAsync(new { type = "conversation.authenticate", conversationId, state = returned["state"].ToString(), code = returned["code"].ToString() });
            return await socket.NextAsync(f => f.GetProperty("type").GetString() is "session" or "error");
        }

        // The provider rotates its signing key right after Parley fetched the old JWKS: the unknown
        // kid makes Parley refetch once (OpenID RP test rp-key-rotation-op-sign-key), and the
        // rotated key is accepted at once.
        Assert.Equal("key-2", await provider.RotateKeysAsync());
        var upgraded = await LogInMidChatAsync("bob");
        Assert.Equal("session", upgraded.GetProperty("type").GetString());
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "Here is your statement.");
        var bob = await server.Store.GetVerifiedIdentityAsync(upgraded.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        Assert.Equal("bob", bob!.Subject);
        Assert.True((await server.Store.GetConversationAsync(conversationId, CancellationToken.None))!.Authenticated);
    }

    [Fact]
    public async Task A_case_that_asks_for_a_stronger_or_more_recent_login_steps_up_for_that_case_only()
    {
        await using var server = await TestServer.StartAsync();
        var callback = new Uri(server.Address, LoginLinks.CallbackPath).ToString();
        await using var provider = await OidcProvider.StartAsync(ClientSecret, PageRedirect, callback);
        var (deploymentId, _) = await server.NewTenantAsync("http://localhost:5080");
        await TestTokens.AttachOidcProviderAsync(server, deploymentId, provider, ClientSecret, DateTimeOffset.UtcNow);
        await server.Store.SetDeploymentBotAsync(deploymentId, new BotSettings
        {
            Cases =
            [
                new BotCase("Statement copy", ["statement"], "Here is your statement.", RequiresAuthentication: true),
                new BotCase("Wire transfer", ["transfer"], "Your transfer is on its way.", Acr: "urn:parley:loa:2", MaxLoginAgeSeconds: 300),
            ],
        }, CancellationToken.None);
        var (socket, conversationId) = await AnonymousChatAsync(server, deploymentId);
        await using var _ = socket;

        async Task<JsonElement> AskAsync(string text)
        {
            await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = Guid.NewGuid().ToString(), text });
            return (await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("senderRole").GetString() == "bot"
                && f.GetProperty("message").GetProperty("kind").GetString() == "event" || f.GetProperty("message").GetProperty("text").GetString()!.StartsWith("Here is", StringComparison.Ordinal)
                || f.GetProperty("message").GetProperty("text").GetString()!.StartsWith("Your transfer", StringComparison.Ordinal))).GetProperty("message");
        }

        async Task<JsonElement> LogInAsync(string link, string loginHint)
        {
            var returned = QueryHelpers.ParseQuery((await OidcBrowser.AuthorizeAsync(link, loginHint, callback)).Query);
            await socket.SendAsync(new { type = "conversation.authenticate", conversationId, state = returned["state"].ToString(), code = returned["code"].ToString() });
            return await socket.NextAsync(f => f.GetProperty("type").GetString() is "session" or "error");
        }

        // A plain login for the statement: the provider's everyday level.
        var statement = await AskAsync("my statement please");
        Assert.Equal("authentication.requested", statement.GetProperty("text").GetString());
        Assert.Equal("session", (await LogInAsync(statement.GetProperty("data").GetProperty("url").GetString()!, "carol")).GetProperty("type").GetString());
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "Here is your statement.");

        // The transfer asks for more: a step-up link with acr_values, max_age and prompt=login.
        var stepUp = await AskAsync("a transfer please");
        Assert.Equal("authentication.requested", stepUp.GetProperty("text").GetString());
        Assert.Equal("acr", stepUp.GetProperty("data").GetProperty("stepUp").GetString());
        var link = stepUp.GetProperty("data").GetProperty("url").GetString()!;
        var query = QueryHelpers.ParseQuery(new Uri(link).Query);
        Assert.Equal(("urn:parley:loa:2", "300", "login"), (query["acr_values"].ToString(), query["max_age"].ToString(), query["prompt"].ToString()));

        // Other cases need no step-up.
        Assert.Equal("Here is your statement.", (await AskAsync("statement again")).GetProperty("text").GetString());

        // A login weaker than asked, or older than allowed, is refused and changes nothing.
        var weak = await LogInAsync(link, "weak:carol");
        Assert.Equal(("insufficient_user_authentication", "error"), (weak.GetProperty("code").GetString(), weak.GetProperty("type").GetString()));
        var again = (await AskAsync("transfer")).GetProperty("data").GetProperty("url").GetString()!;
        var old = await LogInAsync(again, "old:carol");
        Assert.Equal("insufficient_user_authentication", old.GetProperty("code").GetString());
        Assert.Contains("older", old.GetProperty("message").GetString(), StringComparison.Ordinal);

        // A strong, fresh login: the transfer goes on, in the same conversation.
        var fresh = (await AskAsync("transfer")).GetProperty("data").GetProperty("url").GetString()!;
        var stepped = await LogInAsync(fresh, "carol");
        Assert.Equal("session", stepped.GetProperty("type").GetString());
        Assert.Equal(conversationId, stepped.GetProperty("conversation").GetProperty("id").GetGuid());
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "Your transfer is on its way.");
        var identity = await server.Store.GetVerifiedIdentityAsync(stepped.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        Assert.Equal("urn:parley:loa:2", identity!.Acr);
        Assert.NotNull(identity.AuthTime);

        // Now strong and recent enough: the transfer needs no new login.
        Assert.Equal("Your transfer is on its way.", (await AskAsync("another transfer")).GetProperty("text").GetString());
    }
}
