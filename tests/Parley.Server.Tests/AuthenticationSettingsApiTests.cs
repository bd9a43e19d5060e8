using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Parley.Server.Tests;

public sealed class AuthenticationSettingsApiTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private const string Issuer = TestTokens.Issuer;
    private static readonly RSA Brand = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    private static string Token(string audience)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = Issuer, aud = audience, sub = "u-7", exp = now + 600, iat = now, email = "u7@example.com" });
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null) =>
        Server.SendAsync(method, path, token, body);

    private static object Settings(string? clientSecret = "s3cret-client-value") => new
    {
        name = "Brand site",
        flow = "code",
        issuer = Issuer,
        clientId = "parley",
        keysDocument = Brand.ExportSubjectPublicKeyInfoPem(),
        authorizationEndpoint = "https://idp.brand.example/authorize",
        tokenEndpoint = "https://idp.brand.example/token",
        clientSecret,
        claimMapping = new Dictionary<string, string> { ["given_name"] = "First name" },
    };

    private async Task<(string Admin, Guid Id)> CreateAsync()
    {
        var admin = await Server.AgentTokenAsync(Demo.DemoOptions.AdminEmail);
        var response = await SendAsync(HttpMethod.Post, "/api/v1/admin/authentication-settings", admin, Settings());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (admin, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Secrets_are_write_only_and_encrypted_at_rest()
    {
        var (admin, id) = await CreateAsync();

        var body = await (await SendAsync(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{id}", admin)).Content.ReadAsStringAsync();
        var view = JsonDocument.Parse(body).RootElement;
        Assert.True(view.GetProperty("hasClientSecret").GetBoolean());
        Assert.DoesNotContain("s3cret-client-value", body);
        Assert.Equal("First name", view.GetProperty("claimMapping").GetProperty("given_name").GetString());

        var stored = await Server.Store.GetAuthenticationSettingsAsync(id, CancellationToken.None);
        Assert.NotNull(stored!.ProtectedClientSecret);
        Assert.DoesNotContain("s3cret-client-value", stored.ProtectedClientSecret);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.DoesNotContain("s3cret-client-value", Encoding.UTF8.GetString(await File.ReadAllBytesAsync(Server.DatabasePath)));

        // null keeps the secret, "" removes it.
        var kept = await (await SendAsync(HttpMethod.Put, $"/api/v1/admin/authentication-settings/{id}", admin, Settings(clientSecret: null))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(kept.GetProperty("hasClientSecret").GetBoolean());
        var removed = await (await SendAsync(HttpMethod.Put, $"/api/v1/admin/authentication-settings/{id}", admin, Settings(clientSecret: ""))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(removed.GetProperty("hasClientSecret").GetBoolean());
    }

    [Fact]
    public async Task The_token_tester_shows_every_check_for_a_good_and_a_bad_token()
    {
        var (admin, id) = await CreateAsync();

        var good = await (await SendAsync(HttpMethod.Post, $"/api/v1/admin/authentication-settings/{id}/test", admin, new { token = Token("parley") }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var bad = await (await SendAsync(HttpMethod.Post, $"/api/v1/admin/authentication-settings/{id}/test", admin, new { token = Token("someone-else") }))
            .Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(good.GetProperty("valid").GetBoolean());
        Assert.Contains(good.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "signature" && c.GetProperty("ok").GetBoolean());
        Assert.Equal("u-7", good.GetProperty("claims").GetProperty("sub").GetString());
        Assert.False(bad.GetProperty("valid").GetBoolean());
        Assert.Equal("invalid_token", bad.GetProperty("error").GetString());
        Assert.Equal("aud", bad.GetProperty("failedCheck").GetString());
        Assert.Contains("audience", bad.GetProperty("errorDescription").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_tenants_admin_sees_nothing_and_agents_are_not_admins()
    {
        var (_, id) = await CreateAsync();
        var (_, otherEmail) = await Server.NewTenantAsync();
        var otherAgent = await Server.AgentTokenAsync(otherEmail);
        var agent = await Server.AgentTokenAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{id}", agent)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{id}", otherAgent)).StatusCode);
        using (var anonymous = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = Server.Address })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/admin/authentication-settings/{id}")).StatusCode);
        }

        // An admin of another tenant gets the same 404 as for a record that does not exist.
        var store = Server.Store;
        var otherAdmin = (await store.FindAgentByEmailAsync(otherEmail, CancellationToken.None))!;
        var promoted = otherAdmin with { Id = Guid.NewGuid(), Email = "admin-" + otherEmail, Role = Agents.AgentRole.Admin };
        await store.CreateAgentAsync(promoted, CancellationToken.None);
        var otherAdminToken = await Server.AgentTokenAsync(promoted.Email);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{id}", otherAdminToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"/api/v1/admin/authentication-settings/{id}/test", otherAdminToken, new { token = Token("parley") })).StatusCode);
        Assert.Empty(await (await SendAsync(HttpMethod.Get, "/api/v1/admin/authentication-settings", otherAdminToken)).Content.ReadFromJsonAsync<JsonElement[]>() ?? []);
    }

    [Theory]
    [InlineData("keysUrl", "http://keys.brand.example/jwks", "https")]
    [InlineData("keysDocument", "not a key", "keysDocument")]
    [InlineData("allowedAlgorithms", "none", "allowedAlgorithms")]
    [InlineData("allowedAlgorithms", "HS256", "hmacSecret")]
    [InlineData("issuer", "", "required")]
    public async Task Invalid_settings_are_refused_with_what_to_change(string field, string value, string described)
    {
        var admin = await Server.AgentTokenAsync(Demo.DemoOptions.AdminEmail);
        var settings = JsonSerializer.SerializeToNode(Settings())!.AsObject();
        if (field == "keysUrl")
        {
            settings.Remove("keysDocument");
        }

        settings[field] = field == "allowedAlgorithms" ? new System.Text.Json.Nodes.JsonArray(value) : value;

        var response = await SendAsync(HttpMethod.Post, "/api/v1/admin/authentication-settings", admin, settings);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_request", problem.GetProperty("code").GetString());
        Assert.Contains(described, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_record_is_gone()
    {
        var (admin, id) = await CreateAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/api/v1/admin/authentication-settings/{id}", admin)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{id}", admin)).StatusCode);
    }
}
