using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Parley.Server.Tests;

/// <summary>
/// The smaller findings of the second security round: hostile JWT headers, a graceful stop with
/// open sockets, the demo identity provider's token endpoint, and the demo outside Development.
/// </summary>
public sealed class SmallHardeningTests
{
    [Theory]
    [InlineData("{\"alg\":\"RS256\u00e9\",\"typ\":\"JWT\"}")]
    [InlineData("{\"alg\":\"RS256\",\"typ\":\"J\u00c9T\"}")]
    [InlineData("{\"alg\":\"RS256\",\"crit\":[\"\u00e9x\"],\"\u00e9x\":1}")]
    [InlineData("{\"alg\":\"RS256\",\"kid\":\"k\u00e9y\u0001\"}")]
    public async Task A_token_whose_header_holds_non_ascii_is_refused_invalid_token_with_a_valid_challenge(string header)
    {
        await using var server = await TestServer.StartAsync();
        var (deploymentId, _) = await server.NewTenantAsync();
        using var brand = RSA.Create(2048);
        await TestTokens.AttachSettingsAsync(server, deploymentId, brand);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = TestTokens.B64(Encoding.UTF8.GetBytes(header)) + "." + TestTokens.B64(JsonSerializer.SerializeToUtf8Bytes(
            new { iss = TestTokens.Issuer, aud = "parley", sub = "u-1", iat = now, exp = now + 600 }));
        var jwt = body + "." + TestTokens.B64(brand.SignData(Encoding.ASCII.GetBytes(body), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        var response = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_token", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var challenge = Assert.Single(response.Headers.WwwAuthenticate).ToString();
        Assert.All(challenge, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public async Task Stopping_a_node_closes_its_sockets_with_1001_at_once_instead_of_waiting_out_the_shutdown_timeout()
    {
        var directory = Directory.CreateTempSubdirectory("parley-stop-").FullName;
        try
        {
            var node = new ServerProcess(directory, $"--Parley:Storage:Sqlite:Path={Path.Combine(directory, "parley.db")}");
            await node.StartAsync();
            using var http = new HttpClient { BaseAddress = node.Address };
            var visitor = (await (await http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = TestServer.DemoDeployment }))
                .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString();
            await using var socket = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{node.Port}/ws/consumer?deploymentId={TestServer.DemoDeployment}"), visitor);
            await socket.ExpectAsync("ready");
            var login = await http.PostAsJsonAsync("/api/v1/agent/login", new { email = Demo.DemoOptions.AgentEmail, password = "parley-demo" });
            var agentToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
            await using var console = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{node.Port}/ws/agent"), agentToken);
            await console.ExpectAsync("ready");

            var took = await node.TerminateAsync();

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await socket.ClosedAsync());
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await console.ClosedAsync());
            Assert.Equal("server restarting: reconnect", socket.CloseStatusDescription);
            Assert.True(took < TimeSpan.FromSeconds(20), $"the node took {took} to stop: it waited for its sockets");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic ")]
    [InlineData("Basic cGFybGV5LWRlbW8=")]
    public async Task The_demo_identity_providers_token_endpoint_refuses_a_malformed_basic_header_as_invalid_client(string authorization)
    {
        await using var server = await TestServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/demo-brand/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = "x" }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Outside_development_the_demo_is_off_and_asked_for_over_http_it_refuses_to_start()
    {
        var directory = Directory.CreateTempSubdirectory("parley-production-").FullName;
        try
        {
            string[] production = ["--urls=http://127.0.0.1:0", "--environment=Production", $"--Parley:Storage:Sqlite:Path={Path.Combine(directory, "parley.db")}",
                $"--Parley:DataProtection:KeysPath={Path.Combine(directory, "keys")}"];
            await using (var app = ParleyApp.Create(production))
            {
                await app.StartAsync();
                var options = app.Services.GetRequiredService<IOptions<Demo.DemoOptions>>().Value;
                Assert.False(options.Enabled);
                await app.StopAsync();
            }

            var refused = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var asked = ParleyApp.Create([.. production, "--Parley:Demo:Enabled=true"]);
                await asked.StartAsync();
            });
            Assert.Contains("Parley:Demo:Enabled is on outside Development", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
