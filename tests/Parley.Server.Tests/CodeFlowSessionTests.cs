using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>Pre-chat code flow: Parley issues state, nonce and PKCE; the code comes back and is exchanged.</summary>
public sealed class CodeFlowSessionTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>, IAsyncLifetime
{
    private const string Issuer = TestTokens.Issuer;
    private const string ClientSecret = "a-client-secret-of-some-length";
    private static readonly RSA Brand = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string IdToken, string Challenge)> _codes = new();
    private BrandEndpoint _idp = null!;
    private TestServer Server => fixture.Server;

    public async Task InitializeAsync()
    {
        _idp = await BrandEndpoint.StartAsync();
        // A token endpoint that checks what a real one checks: client credentials, code, PKCE.
        _idp.Routes["/token"] = async context =>
        {
            var form = await context.Request.ReadFormAsync();
            var basic = Encoding.UTF8.GetString(Convert.FromBase64String(context.Request.Headers.Authorization.ToString()["Basic ".Length..]));
            var known = _codes.TryRemove(form["code"].ToString(), out var issued);
            string? error = basic != "parley:" + Uri.EscapeDataString(ClientSecret) ? "invalid_client"
                : !known ? "invalid_grant"
                : B64(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != issued.Challenge ? "invalid_grant"
                : form["redirect_uri"] != "http://localhost:5080/chat" ? "invalid_grant"
                : null;
            context.Response.ContentType = "application/json";
            if (error is not null)
            {
                context.Response.StatusCode = error == "invalid_client" ? 401 : 400;
                await context.Response.WriteAsync(JsonSerializer.Serialize(new { error }));
                return;
            }

            await context.Response.WriteAsync(JsonSerializer.Serialize(new { token_type = "Bearer", access_token = "at", id_token = issued.IdToken }));
        };
    }

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    private static string B64(byte[] bytes) => TestTokens.B64(bytes);

    private static string IdToken(string sub, string nonce)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = Issuer, aud = "parley", sub, nonce, exp = now + 600, iat = now, email = "grace@example.com" });
    }

    /// <summary>The demo deployment (allowed origin http://localhost:5080) with code-flow settings pointing at the fake IdP.</summary>
    private async Task<Guid> CodeFlowDeploymentAsync()
    {
        var (deploymentId, _) = await Server.NewTenantAsync("http://localhost:5080");
        var deployment = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var resolver = Server.Services.GetRequiredService<AuthenticationSettingsResolver>();
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = deployment.TenantId, Name = "code", Flow = AuthenticationFlow.Code, Issuer = Issuer, ClientId = "parley",
            KeysDocument = Brand.ExportSubjectPublicKeyInfoPem(), AuthorizationEndpoint = "https://idp.brand.example/authorize",
            TokenEndpoint = _idp.Url("/token").ToString(), ProtectedClientSecret = resolver.Protect(ClientSecret),
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        await Server.Store.SaveAuthenticationSettingsAsync(settings, CancellationToken.None);
        await Server.Store.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, CancellationToken.None);
        return deploymentId;
    }

    private async Task<JsonElement> StartLoginAsync(Guid deploymentId, string redirectUri = "http://localhost:5080/chat")
    {
        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions/login", new { deploymentId, redirectUri });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>What the brand's login page does: authenticates the visitor and issues a code for this login.</summary>
    private string IssueCode(JsonElement login, string sub, string? nonce = null)
    {
        var code = "code-" + Guid.NewGuid().ToString("N");
        _codes[code] = (IdToken(sub, nonce ?? login.GetProperty("nonce").GetString()!), login.GetProperty("codeChallenge").GetString()!);
        return code;
    }

    private Task<HttpResponseMessage> SessionAsync(Guid deploymentId, string code, JsonElement login) =>
        Server.Http.PostAsJsonAsync("/api/v1/sessions", new
        {
            deploymentId, code, state = login.GetProperty("state").GetString(), redirectUri = "http://localhost:5080/chat",
        });

    [Fact]
    public async Task A_code_is_exchanged_and_the_visitor_is_authenticated()
    {
        var deploymentId = await CodeFlowDeploymentAsync();
        var login = await StartLoginAsync(deploymentId);
        var url = new Uri(login.GetProperty("authorizationUrl").GetString()!);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal(("code", "parley", "S256"), (query["response_type"], query["client_id"], query["code_challenge_method"]));
        Assert.Equal(login.GetProperty("state").GetString(), query["state"]);
        Assert.Equal(login.GetProperty("nonce").GetString(), query["nonce"]);

        var response = await SessionAsync(deploymentId, IssueCode(login, "grace"), login);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(session.GetProperty("authenticated").GetBoolean());
        var identity = await Server.Store.GetVerifiedIdentityAsync(session.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        Assert.Equal(("grace", "grace@example.com"), (identity!.Subject, identity.VerifiedClaims["email"]));
    }

    [Fact]
    public async Task A_replayed_state_is_refused_and_nothing_changes()
    {
        var deploymentId = await CodeFlowDeploymentAsync();
        var login = await StartLoginAsync(deploymentId);
        Assert.Equal(HttpStatusCode.Created, (await SessionAsync(deploymentId, IssueCode(login, "once"), login)).StatusCode);

        var replay = await SessionAsync(deploymentId, IssueCode(login, "once"), login);

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        var problem = await replay.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("invalid_grant", "state"), (problem.GetProperty("error").GetString(), problem.GetProperty("failedCheck").GetString()));
    }

    [Fact]
    public async Task An_id_token_with_another_nonce_is_refused()
    {
        var deploymentId = await CodeFlowDeploymentAsync();
        var login = await StartLoginAsync(deploymentId);

        var response = await SessionAsync(deploymentId, IssueCode(login, "grace", nonce: "not-the-one-parley-issued"), login);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("invalid_grant", "nonce"), (problem.GetProperty("error").GetString(), problem.GetProperty("failedCheck").GetString()));
    }

    [Fact]
    public async Task A_state_issued_for_another_deployment_is_refused()
    {
        var first = await CodeFlowDeploymentAsync();
        var second = await CodeFlowDeploymentAsync();
        var login = await StartLoginAsync(first);

        var response = await SessionAsync(second, IssueCode(login, "grace"), login);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("state", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("failedCheck").GetString());
    }

    [Fact]
    public async Task A_code_the_brand_does_not_know_is_invalid_grant()
    {
        var deploymentId = await CodeFlowDeploymentAsync();
        var login = await StartLoginAsync(deploymentId);

        var response = await SessionAsync(deploymentId, "made-up-code", login);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_grant", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_redirect_uri_off_the_deployments_origins_is_refused()
    {
        var deploymentId = await CodeFlowDeploymentAsync();
        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions/login", new { deploymentId, redirectUri = "https://evil.example/steal" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
