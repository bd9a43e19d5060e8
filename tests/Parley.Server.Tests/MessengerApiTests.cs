using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Parley.Demo;

namespace Parley.Server.Tests;

/// <summary>
/// What the messenger widget reads and loads from Parley: the public configuration of a deployment,
/// the script, the separate-window page, CORS for brands' origins, and the admin API for a
/// deployment's messenger settings. The widget itself runs in <see cref="WidgetBrowserTests"/>.
/// </summary>
public sealed class MessengerApiTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    private async Task<JsonElement> ConfigAsync(Guid deploymentId) =>
        await Server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{deploymentId}/messenger");

    [Fact]
    public async Task The_public_configuration_names_the_login_flow_and_the_page_function_and_nothing_secret()
    {
        var implicitFlow = await ConfigAsync(DemoOptions.ImplicitDeploymentId);
        Assert.Equal("Demo Bank chat", implicitFlow.GetProperty("title").GetString());
        Assert.Equal("embedded", implicitFlow.GetProperty("windowMode").GetString());
        Assert.Equal("implicit", implicitFlow.GetProperty("authentication").GetProperty("flow").GetString());
        Assert.Equal("getAuthenticationToken", implicitFlow.GetProperty("authentication").GetProperty("jsClientFunction").GetString());
        Assert.Equal(new Uri(Server.Address, $"/messenger/{DemoOptions.ImplicitDeploymentId}").ToString(), implicitFlow.GetProperty("windowUrl").GetString());
        Assert.Equal(["deploymentId", "title", "windowMode", "authentication", "windowUrl", "authenticatedOnly"], implicitFlow.EnumerateObject().Select(p => p.Name));
        Assert.False(implicitFlow.GetProperty("authenticatedOnly").GetBoolean());
        Assert.Equal(["flow", "jsClientFunction", "loginLinks"], implicitFlow.GetProperty("authentication").EnumerateObject().Select(p => p.Name));
        Assert.True(implicitFlow.GetProperty("authentication").GetProperty("loginLinks").GetBoolean()); // the demo brand has a login page

        // Settings with keys only (no authorization endpoint, no discovery): the messenger cannot send anyone to log in.
        var (keysOnly, _) = await Server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(Server, keysOnly, System.Security.Cryptography.RSA.Create(2048));
        Assert.False((await ConfigAsync(keysOnly)).GetProperty("authentication").GetProperty("loginLinks").GetBoolean());

        var code = await ConfigAsync(DemoOptions.CodeFlowDeploymentId);
        Assert.Equal("code", code.GetProperty("authentication").GetProperty("flow").GetString());
        Assert.Equal("getAuthenticationCode", code.GetProperty("authentication").GetProperty("jsClientFunction").GetString());
        Assert.Equal("window", (await ConfigAsync(DemoOptions.WindowDeploymentId)).GetProperty("windowMode").GetString());

        var anonymousOnly = await ConfigAsync(DemoOptions.DeploymentId);
        Assert.Equal(JsonValueKind.Null, anonymousOnly.GetProperty("authentication").ValueKind);
        Assert.Equal("Demo website (no login)", anonymousOnly.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Unknown_deployments_and_foreign_origins_are_refused()
    {
        var unknown = await Server.Http.GetAsync($"/api/v1/deployments/{Guid.NewGuid()}/messenger");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        using var foreign = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/deployments/{DemoOptions.ImplicitDeploymentId}/messenger");
        foreign.Headers.Add("Origin", "https://evil.example");
        var refused = await Server.Http.SendAsync(foreign);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("origin_not_allowed", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync($"/messenger/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_brands_origin_passes_the_CORS_preflight_and_the_deployment_decides_on_the_request()
    {
        var (deploymentId, _) = await Server.NewTenantAsync("https://shop.brand.example");
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/sessions");
        preflight.Headers.Add("Origin", "https://shop.brand.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        var allowed = await Server.Http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("https://shop.brand.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(allowed.Headers.Contains("Access-Control-Allow-Credentials"));

        async Task<HttpStatusCode> SessionFromAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions") { Content = JsonContent.Create(new { deploymentId }) };
            request.Headers.Add("Origin", origin);
            return (await Server.Http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.Created, await SessionFromAsync("https://shop.brand.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await SessionFromAsync("https://evil.example"));
        // Parley's own origin: the messenger's separate window.
        Assert.Equal(HttpStatusCode.Created, await SessionFromAsync(Server.Address.GetLeftPart(UriPartial.Authority)));
    }

    [Fact]
    public async Task The_consumer_socket_accepts_the_deployments_origins_and_parleys_own_and_refuses_others()
    {
        var (deploymentId, _) = await Server.NewTenantAsync("https://shop.brand.example");
        var uri = Server.WebSocketUri($"/ws/consumer?deploymentId={deploymentId}");
        foreach (var origin in new[] { "https://shop.brand.example", Server.Address.GetLeftPart(UriPartial.Authority) })
        {
            await using var socket = await WsClient.ConnectAsync(uri, origin: origin);
            await socket.SendAsync(new { type = "auth", token = await Server.NewVisitorAsync(deploymentId) });
            await socket.ExpectAsync("ready");
        }

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => WsClient.ConnectAsync(uri, origin: "https://evil.example"));
        Assert.Contains("403", refused.Message);
    }

    [Fact]
    public async Task The_widget_script_is_cacheable_and_revalidated_by_etag()
    {
        var script = await Server.Http.GetAsync("/widget.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal("cross-origin", script.Headers.GetValues("Cross-Origin-Resource-Policy").Single());
        var body = await script.Content.ReadAsStringAsync();
        Assert.Contains("/ws/consumer", body);
        Assert.InRange(body.Length, 1000, 200_000);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/widget.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await Server.Http.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task The_separate_window_page_loads_the_widget_in_page_mode_under_a_strict_policy()
    {
        var page = await Server.Http.GetAsync($"/messenger/{DemoOptions.WindowDeploymentId}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains($"<script src=\"/widget.js\" data-deployment=\"{DemoOptions.WindowDeploymentId}\" data-mode=\"page\"></script>", html);
        Assert.Contains("<title>Demo Bank chat</title>", html);
    }

    [Fact]
    public async Task An_admin_sets_the_window_mode_and_title_and_gets_the_snippet_to_paste()
    {
        var (deploymentId, _) = await Server.NewTenantAsync("https://shop.brand.example");
        var tenantId = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.TenantId;
        var admin = await Server.AdminTokenAsync(tenantId);
        var path = $"/api/v1/admin/deployments/{deploymentId}/messenger";

        var before = await (await Server.SendAsync(HttpMethod.Get, path, admin)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("embedded", before.GetProperty("messenger").GetProperty("windowMode").GetString());
        Assert.Equal($"<script src=\"{new Uri(Server.Address, "/widget.js")}\" data-deployment=\"{deploymentId}\" async></script>", before.GetProperty("snippet").GetString());

        var put = await Server.SendAsync(HttpMethod.Put, path, admin, new { windowMode = "window", title = "  Shop help  " });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var config = await ConfigAsync(deploymentId);
        Assert.Equal("window", config.GetProperty("windowMode").GetString());
        Assert.Equal("Shop help", config.GetProperty("title").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await Server.SendAsync(HttpMethod.Put, path, admin, new { title = new string('x', 81) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Server.SendAsync(HttpMethod.Put, path, admin, new { windowMode = "popup" })).StatusCode);
        Assert.Equal("Shop help", (await ConfigAsync(deploymentId)).GetProperty("title").GetString());

        // Other brands' admins do not see it; agents may not change it.
        var otherAdmin = await Server.AdminTokenAsync(Demo.DemoOptions.TenantId);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.SendAsync(HttpMethod.Get, path, otherAdmin)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Server.SendAsync(HttpMethod.Put, path, otherAdmin, new { windowMode = "embedded" })).StatusCode);
        var (_, agent) = await Server.NewAgentAsync(tenantId);
        Assert.Equal(HttpStatusCode.Forbidden, (await Server.SendAsync(HttpMethod.Put, path, agent, new { windowMode = "embedded" })).StatusCode);
    }
}
