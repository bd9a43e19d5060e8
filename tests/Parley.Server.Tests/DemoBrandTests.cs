using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Parley.Demo;

namespace Parley.Server.Tests;

/// <summary>
/// The demo brand that the run command serves: its login, page token, authorization and token
/// endpoints drive Parley's pre-chat and mid-chat flows exactly as a brand's would.
/// </summary>
public sealed class DemoBrandTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        // The demo brand's issuer and endpoints are absolute URLs, so this server listens on a known port.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _server = await TestServer.StartAsync($"--urls=http://127.0.0.1:{port}", $"--Parley:Demo:AllowedOrigins:0=http://127.0.0.1:{port}");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A browser on the demo brand's site: it keeps cookies and does not follow redirects by itself.</summary>
    private HttpClient Browser() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = _server.Address };

    private static async Task LogInAsync(HttpClient browser, string username, string password = "parley-demo")
    {
        var response = await browser.PostAsync("/demo-brand/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = username, ["password"] = password, ["return"] = "/demo-brand/account",
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private async Task<(WsClient Socket, Guid ConversationId)> VisitorAsync(Guid deploymentId)
    {
        var socket = await _server.ConsumerAsync(await _server.NewVisitorAsync(deploymentId), deploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversationId = (await socket.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await socket.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == DemoOptions.Bot.Greeting);
        return (socket, conversationId);
    }

    private static async Task<string> LoginLinkAsync(WsClient socket, Guid conversationId)
    {
        await socket.SendAsync(new { type = "message.send", conversationId, clientMessageId = "ask", text = "I need a statement copy" });
        var requested = await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "authentication.requested");
        return requested.GetProperty("message").GetProperty("data").GetProperty("url").GetString()!;
    }

    [Fact]
    public async Task A_visitor_logged_in_on_the_account_page_starts_an_authenticated_chat_with_verified_claims_and_context()
    {
        using var browser = Browser();
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/demo-brand/account")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/demo-brand/page-token")).StatusCode);
        await LogInAsync(browser, "ada");
        var account = await browser.GetStringAsync("/demo-brand/account");
        Assert.Contains("window.getAuthenticationToken", account);
        var token = (await browser.GetFromJsonAsync<JsonElement>("/demo-brand/page-token")).GetProperty("token").GetString();

        var session = await (await _server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = DemoOptions.ImplicitDeploymentId, jwt = token }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(session.GetProperty("authenticated").GetBoolean());
        await using var socket = await _server.ConsumerAsync(session.GetProperty("visitorToken").GetString()!, DemoOptions.ImplicitDeploymentId);
        await socket.SendAsync(new { type = "conversation.start" });
        var conversation = (await socket.ExpectAsync("conversation")).GetProperty("conversation");
        Assert.True(conversation.GetProperty("authenticated").GetBoolean());

        using var panel = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/agent/conversations/{conversation.GetProperty("id").GetGuid()}/consumer");
        panel.Headers.Authorization = new("Bearer", await _server.AgentTokenAsync());
        var consumer = await (await _server.Http.SendAsync(panel)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("authenticated", consumer.GetProperty("authentication").GetString());
        Assert.Equal("C-1815", consumer.GetProperty("verified").GetProperty("subject").GetString());
        Assert.Equal("Lovelace", consumer.GetProperty("verified").GetProperty("claims").GetProperty("family_name").GetString());
        Assert.Equal("Last name", consumer.GetProperty("verified").GetProperty("labels").GetProperty("family_name").GetString());
        Assert.Equal("true", consumer.GetProperty("verified").GetProperty("contextVariables").GetProperty("msdyn_isvip").GetString());
    }

    [Fact]
    public async Task Mid_chat_the_code_flow_through_the_demo_brands_authorization_and_token_endpoints_upgrades_the_conversation()
    {
        var (socket, conversationId) = await VisitorAsync(DemoOptions.CodeFlowDeploymentId);
        await using var _ = socket;
        var link = await LoginLinkAsync(socket, conversationId);
        Assert.StartsWith(new Uri(_server.Address, "/demo-brand/authorize").ToString(), link);

        // Not logged in at the brand yet: its login page, then back to the authorization request.
        using var browser = Browser();
        var toLogin = await browser.GetAsync(link);
        Assert.StartsWith("/demo-brand/login", toLogin.Headers.Location!.OriginalString);
        await LogInAsync(browser, "grace");
        var redirect = (await browser.GetAsync(link)).Headers.Location!;
        Assert.Equal("/auth/callback", redirect.AbsolutePath);
        var query = QueryHelpers.ParseQuery(redirect.Query);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(redirect)).StatusCode);

        await socket.SendAsync(new { type = "conversation.authenticate", conversationId, state = query["state"].ToString(), code = query["code"].ToString() });
        var session = await socket.ExpectAsync("session");
        Assert.True(session.GetProperty("conversation").GetProperty("authenticated").GetBoolean());
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == DemoOptions.Bot.Cases[0].Answer);
    }

    [Fact]
    public async Task Mid_chat_an_id_token_from_the_demo_brand_upgrades_the_conversation_on_the_public_page()
    {
        var (socket, conversationId) = await VisitorAsync(DemoOptions.ImplicitDeploymentId);
        await using var _ = socket;
        var link = await LoginLinkAsync(socket, conversationId);
        using var browser = Browser();
        await LogInAsync(browser, "ada");
        var redirect = (await browser.GetAsync(link)).Headers.Location!;
        var fragment = QueryHelpers.ParseQuery(redirect.Fragment.TrimStart('#'));

        await socket.SendAsync(new { type = "conversation.authenticate", conversationId, state = fragment["state"].ToString(), jwt = fragment["id_token"].ToString() });
        Assert.True((await socket.ExpectAsync("session")).GetProperty("authenticated").GetBoolean());
        await socket.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "authentication.upgraded");
    }

    [Fact]
    public async Task The_demo_brand_refuses_wrong_passwords_foreign_redirects_and_unknown_clients()
    {
        using var browser = Browser();
        var wrong = await browser.PostAsync("/demo-brand/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "ada", ["password"] = "guess", ["return"] = "/demo-brand/account",
        }));
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("wrong password", await wrong.Content.ReadAsStringAsync());

        var openRedirect = await browser.PostAsync("/demo-brand/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "ada", ["password"] = "parley-demo", ["return"] = "//evil.example/",
        }));
        Assert.Equal("/demo-brand", openRedirect.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync("/demo-brand/authorize?client_id=parley-demo&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync($"/demo-brand/authorize?client_id=other&response_type=code&redirect_uri={Uri.EscapeDataString(new Uri(_server.Address, "/auth/callback").ToString())}&state=s")).StatusCode);
        var token = await browser.PostAsync("/demo-brand/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = "made-up", ["client_id"] = "parley-demo", ["client_secret"] = "demo-client-secret",
        }));
        Assert.Equal("invalid_grant", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Contains("<script src=\"/widget.js\" data-deployment=\"", await browser.GetStringAsync("/demo-brand/"));
        using var stranger = Browser();
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync($"/demo-brand/page-code?redirect_uri={Uri.EscapeDataString(_server.Address.ToString())}&code_challenge=c")).StatusCode);
    }
}
