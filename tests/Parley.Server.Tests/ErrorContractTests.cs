using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Consumers;
using Parley.Security;

namespace Parley.Server.Tests;

/// <summary>
/// One error contract on every surface: every REST refusal is problem details with a stable
/// <c>code</c> (401/403 with <c>WWW-Authenticate</c> as RFC 6750 says), and every WebSocket
/// refusal about a frame is an <c>error</c> frame that echoes its <c>requestId</c>.
/// </summary>
public sealed class ErrorContractTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    /// <summary>Without cookies: the shared client keeps the agent cookie another test's login set.</summary>
    private HttpClient Http => _http ??= new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = Server.Address };

    private HttpClient? _http;

    private async Task<(HttpResponseMessage Response, JsonElement Problem)> GetAsync(string path, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        var response = await Http.SendAsync(request);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static void Refused(HttpResponseMessage response, JsonElement problem, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    /// <summary>A device session that ended a minute ago (its login expired).</summary>
    private async Task<string> EndedVisitorTokenAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var consumer = Consumer.Anonymous(Parley.Demo.DemoOptions.TenantId, now.AddHours(-2));
        await Server.Store.CreateConsumerAsync(consumer, CancellationToken.None);
        var (token, hash) = OpaqueToken.Create(OpaqueToken.VisitorPrefix);
        await Server.Store.CreateConsumerSessionAsync(
            new ConsumerSession(hash, consumer.Id, consumer.TenantId, TestServer.DemoDeployment, now.AddHours(-2), now.AddMinutes(-1)), CancellationToken.None);
        return token;
    }

    [Fact]
    public async Task No_token_is_401_unauthorized_with_a_bare_bearer_challenge()
    {
        var (response, problem) = await GetAsync("/api/v1/consumer/conversations", null);
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());

        (response, problem) = await GetAsync("/api/v1/agent/me", null);
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Theory]
    [InlineData("/api/v1/consumer/conversations", "pvt_unknown-token-of-the-right-shape-00000000")]
    [InlineData("/api/v1/agent/me", "pat_unknown-token-of-the-right-shape-00000000")]
    [InlineData("/api/v1/consumer/conversations", "not-a-parley-token")]
    public async Task An_unknown_token_is_401_unauthorized_with_invalid_token(string path, string token)
    {
        var (response, problem) = await GetAsync(path, token);
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.StartsWith("Bearer error=\"invalid_token\", error_description=\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_token_on_a_consumer_route_and_a_visitor_token_on_an_agent_route_are_401_unauthorized()
    {
        var (response, problem) = await GetAsync("/api/v1/consumer/conversations", await Server.AgentTokenAsync());
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");

        (response, problem) = await GetAsync("/api/v1/agent/me", await Server.NewVisitorAsync());
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_non_admin_on_an_admin_route_is_403_forbidden_with_insufficient_scope()
    {
        var (response, problem) = await GetAsync("/api/v1/admin/authentication-settings", await Server.AgentTokenAsync());
        Refused(response, problem, HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("Bearer error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task An_ended_device_session_is_401_authentication_expired_on_rest_and_on_the_websocket()
    {
        var token = await EndedVisitorTokenAsync();

        var (response, problem) = await GetAsync("/api/v1/consumer/conversations", token);
        Refused(response, problem, HttpStatusCode.Unauthorized, "authentication_expired");
        Assert.StartsWith("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        await using var socket = await WsClient.ConnectAsync(Server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}"));
        await socket.SendAsync(new { type = "auth", token, requestId = "a-1" });
        var error = await socket.ExpectAsync("error");
        Assert.Equal(("authentication_expired", "a-1"), (error.GetProperty("code").GetString(), error.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task A_cleared_visitor_token_is_401_unauthorized()
    {
        var token = await Server.NewVisitorAsync();
        await using (var consumer = await Server.ConsumerAsync(token))
        {
            await consumer.SendAsync(new { type = "conversation.start", requestId = "s" });
            var conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await consumer.SendAsync(new { type = "history.clear", conversationId });
            await consumer.ExpectAsync("history.cleared");
        }

        var (response, problem) = await GetAsync("/api/v1/consumer/conversations", token);
        Refused(response, problem, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Theory]
    [InlineData("""{"type":"no.such.frame","requestId":"r-unknown"}""", "unknown_frame_type", "r-unknown")]
    [InlineData("""{"requestId":"r-typeless","conversationId":"x"}""", "invalid_frame", "r-typeless")]
    [InlineData("""{"type":"message.send","requestId":"r-missing"}""", "invalid_frame", "r-missing")]
    [InlineData("""{"type":"typing","requestId":"r-wrong","conversationId":"not-a-guid","isTyping":true}""", "invalid_frame", "r-wrong")]
    public async Task A_frame_error_echoes_the_frames_request_id(string frame, string code, string requestId)
    {
        await using var consumer = await Server.ConsumerAsync(await Server.NewVisitorAsync());
        await consumer.SendRawAsync(frame);
        var error = await consumer.ExpectAsync("error");
        Assert.Equal((code, requestId), (error.GetProperty("code").GetString(), error.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task A_ping_before_auth_is_refused_like_any_other_frame()
    {
        await using var socket = await WsClient.ConnectAsync(Server.WebSocketUri($"/ws/consumer?deploymentId={TestServer.DemoDeployment}"));
        await socket.SendAsync(new { type = "ping", requestId = "early" });
        var error = await socket.ExpectAsync("error");
        Assert.Equal(("unauthorized", "early"), (error.GetProperty("code").GetString(), error.GetProperty("requestId").GetString()));

        await socket.SendAsync(new { type = "auth", token = await Server.NewVisitorAsync() });
        await socket.ExpectAsync("ready");
        await socket.SendAsync(new { type = "ping", requestId = "later" });
        await socket.ExpectAsync("pong", f => f.GetProperty("requestId").GetString() == "later");
    }

    [Theory]
    [InlineData("jwt", "code")]
    [InlineData("jwt", "assertion")]
    [InlineData("code", "assertion")]
    [InlineData("assertion", null)]
    public async Task A_session_request_with_more_than_one_proof_or_an_assertion_is_invalid_request(string first, string? second)
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(Server, deploymentId, RSA.Create(2048));
        var body = new Dictionary<string, object> { ["deploymentId"] = deploymentId, ["state"] = "s", [first] = "x.y.z" };
        if (second is not null)
        {
            body[second] = "x.y.z";
        }

        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions", body);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Refused(response, problem, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Equal("request", problem.GetProperty("failedCheck").GetString());
    }

    [Theory]
    [InlineData("/api/v1/sessions", """{}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("/api/v1/sessions", """{"deploymentId":"00000000-0000-0000-0000-000000000000"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("/api/v1/sessions", """{"deploymentId":"7a3c0000-0000-4000-8000-0000000000ff"}""", HttpStatusCode.NotFound, "not_found")]
    [InlineData("/api/v1/sessions/login", """{"redirectUri":"http://localhost:5080/"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("/api/v1/sessions/login", """{"deploymentId":"7a3c0000-0000-4000-8000-0000000000ff","redirectUri":"http://localhost:5080/"}""", HttpStatusCode.NotFound, "not_found")]
    public async Task A_session_request_without_a_deployment_id_is_400_and_one_for_an_unknown_deployment_404(
        string path, string body, HttpStatusCode status, string code)
    {
        var response = await Http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Refused(response, await response.Content.ReadFromJsonAsync<JsonElement>(), status, code);
    }

    [Theory]
    [InlineData("/ws/consumer", HttpStatusCode.BadRequest)]
    [InlineData("/ws/consumer?deploymentId=not-an-id", HttpStatusCode.BadRequest)]
    [InlineData("/ws/consumer?deploymentId=7a3c0000-0000-4000-8000-0000000000ff", HttpStatusCode.NotFound)]
    public async Task A_consumer_socket_without_a_deployment_id_is_refused_400_and_one_for_an_unknown_deployment_404(string path, HttpStatusCode status)
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => socket.ConnectAsync(Server.WebSocketUri(path), CancellationToken.None));
        Assert.Equal(status, socket.HttpStatusCode);
    }

    [Fact]
    public async Task An_unreachable_key_source_is_503_retryable_with_retry_after()
    {
        // A loopback port nothing listens on (plain http is allowed on loopback in Development).
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var (deploymentId, _) = await Server.NewTenantAsync();
        var brand = RSA.Create(2048);
        var settings = await TestTokens.AttachSettingsAsync(Server, deploymentId, brand);
        await Server.Store.SaveAuthenticationSettingsAsync(
            settings with { KeysDocument = null, KeysUrl = $"http://127.0.0.1:{port}/jwks", UpdatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "u-1", exp = now + 600, iat = now - 5 });

        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt });

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Refused(response, problem, HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");
        Assert.True(problem.GetProperty("retryable").GetBoolean());
        Assert.NotNull(response.Headers.RetryAfter);
    }
}
