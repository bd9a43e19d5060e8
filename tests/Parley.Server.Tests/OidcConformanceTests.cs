using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Parley as an OpenID Connect relying party against a hostile provider, modelled on the OpenID
/// Foundation's RP certification tests (the <c>rp-*</c> ids are theirs; <c>parley-*</c> are
/// additions). Each case runs the whole pre-chat code flow through Parley's public API: discovery,
/// JWKS, the token endpoint with client authentication, and the id_token checks. docs/security.md
/// lists every case with its expected outcome.
/// </summary>
public sealed class OidcConformanceTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private const string ClientId = "parley";
    private const string ClientSecret = "conformance-client-secret";
    private const string RedirectUri = "http://localhost:5080/chat";
    private TestServer Server => fixture.Server;

    /// <summary>
    /// A loopback OpenID provider whose every answer a case can change: the discovery document, the
    /// JWKS (its keys, their kids, garbage entries), and what its token endpoint returns.
    /// </summary>
    private sealed class HostileProvider : IAsyncDisposable
    {
        private readonly BrandEndpoint _endpoint;

        private HostileProvider(BrandEndpoint endpoint)
        {
            _endpoint = endpoint;
            Issuer = endpoint.BaseUri.ToString().TrimEnd('/');
            _endpoint.Routes["/.well-known/openid-configuration"] = context => Json(context, Discovery());
            _endpoint.Routes["/jwks"] = context => Json(context, Jwks(Keys, ExtraKeys));
            _endpoint.Routes["/jwks-2"] = context => Json(context, Jwks(SecondKeys, []));
            _endpoint.Routes["/token"] = TokenAsync;
        }

        public string Issuer { get; }

        /// <summary>The issuer the discovery document claims (a case may make it lie).</summary>
        public string? DiscoveryIssuer { get; set; }

        public string JwksPath { get; set; } = "/jwks";

        /// <summary>Published signing keys; a null kid publishes the key without one.</summary>
        public List<(string? Kid, RSA Key)> Keys { get; } = [("k1", RSA.Create(2048))];

        public List<(string? Kid, RSA Key)> SecondKeys { get; } = [];

        public List<JsonNode> ExtraKeys { get; } = [];

        /// <summary>How the token endpoint authenticates Parley; anything else is invalid_client.</summary>
        public bool RequireBasic { get; set; } = true;

        /// <summary>The id_token the token endpoint returns for a request (the nonce is Parley's).</summary>
        public Func<string, string> IdToken { get; set; } = _ => "";

        public int TokenRequests { get; private set; }

        public static async Task<HostileProvider> StartAsync() => new(await BrandEndpoint.StartAsync());

        public Uri DiscoveryUrl => _endpoint.Url("/.well-known/openid-configuration");

        public JsonObject Claims(string nonce) => new()
        {
            ["iss"] = Issuer, ["aud"] = ClientId, ["sub"] = "customer-7", ["nonce"] = nonce,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
        };

        public static string Sign(JsonObject claims, RSA key, string? kid, string alg = "RS256")
        {
            var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT" };
            if (kid is not null)
            {
                header["kid"] = kid;
            }

            var input = TestTokens.B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + TestTokens.B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
            return alg == "none"
                ? input + "."
                : input + "." + TestTokens.B64(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }

        private JsonObject Discovery() => new()
        {
            ["issuer"] = DiscoveryIssuer ?? Issuer,
            ["authorization_endpoint"] = Issuer + "/authorize",
            ["token_endpoint"] = Issuer + "/token",
            ["jwks_uri"] = Issuer + JwksPath,
            ["response_types_supported"] = new JsonArray("code"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray(RequireBasic ? "client_secret_basic" : "client_secret_post"),
        };

        private static JsonObject Jwks(IEnumerable<(string? Kid, RSA Key)> keys, IEnumerable<JsonNode> extra)
        {
            var list = new JsonArray();
            foreach (var (kid, key) in keys)
            {
                var p = key.ExportParameters(false);
                var jwk = new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["n"] = TestTokens.B64(p.Modulus!), ["e"] = TestTokens.B64(p.Exponent!) };
                if (kid is not null)
                {
                    jwk["kid"] = kid;
                }

                list.Add(jwk);
            }

            foreach (var node in extra)
            {
                list.Add(node.DeepClone());
            }

            return new JsonObject { ["keys"] = list };
        }

        private async Task TokenAsync(HttpContext context)
        {
            TokenRequests++;
            var form = await context.Request.ReadFormAsync();
            var authorization = context.Request.Headers.Authorization.ToString();
            var basic = authorization.StartsWith("Basic ", StringComparison.Ordinal)
                && Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..])) == $"{ClientId}:{Uri.EscapeDataString(ClientSecret)}";
            var post = form["client_id"] == ClientId && form["client_secret"] == ClientSecret;
            if (RequireBasic ? !basic || post : !post)
            {
                context.Response.StatusCode = 401;
                await Json(context, new JsonObject { ["error"] = "invalid_client" });
                return;
            }

            await Json(context, new JsonObject { ["token_type"] = "Bearer", ["access_token"] = "at", ["id_token"] = IdToken(form["code"].ToString()) });
        }

        private static Task Json(HttpContext context, JsonNode body)
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(body.ToJsonString());
        }

        public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
    }

    /// <summary>A new brand whose code-flow settings find everything through the provider's discovery document.</summary>
    private async Task<Guid> DeploymentAsync(HostileProvider provider)
    {
        var (deploymentId, _) = await Server.NewTenantAsync("http://localhost:5080");
        var deployment = (await Server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var resolver = Server.Services.GetRequiredService<AuthenticationSettingsResolver>();
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = deployment.TenantId, Name = "conformance", Flow = AuthenticationFlow.Code, Issuer = provider.Issuer,
            ClientId = ClientId, DiscoveryUrl = provider.DiscoveryUrl.ToString(), ProtectedClientSecret = resolver.Protect(ClientSecret),
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        await Server.Store.SaveAuthenticationSettingsAsync(settings, CancellationToken.None);
        await Server.Store.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, CancellationToken.None);
        return deploymentId;
    }

    /// <summary>One pre-chat login: Parley's state and nonce, the provider's id_token for them, and Parley's verdict.</summary>
    private async Task<(HttpStatusCode Status, JsonElement Body)> LogInAsync(Guid deploymentId, HostileProvider provider, Func<string, string> idToken)
    {
        var start = await Server.Http.PostAsJsonAsync("/api/v1/sessions/login", new { deploymentId, redirectUri = RedirectUri });
        if (!start.IsSuccessStatusCode)
        {
            return (start.StatusCode, await start.Content.ReadFromJsonAsync<JsonElement>());
        }

        var login = await start.Content.ReadFromJsonAsync<JsonElement>();
        provider.IdToken = _ => idToken(login.GetProperty("nonce").GetString()!);
        var response = await Server.Http.PostAsJsonAsync("/api/v1/sessions", new
        {
            deploymentId, code = "code-" + Guid.NewGuid().ToString("N"), state = login.GetProperty("state").GetString(), redirectUri = RedirectUri,
        });
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static void Accepted((HttpStatusCode Status, JsonElement Body) result)
    {
        Assert.True(result.Status == HttpStatusCode.Created, $"refused: {result.Body}");
        Assert.True(result.Body.GetProperty("authenticated").GetBoolean());
    }

    private static void Refused((HttpStatusCode Status, JsonElement Body) result, string error, string check)
    {
        Assert.False(result.Status is HttpStatusCode.Created or HttpStatusCode.OK, $"accepted: {result.Body}");
        Assert.True(result.Body.TryGetProperty("error", out var actual) && actual.GetString() == error
            && result.Body.TryGetProperty("failedCheck", out var failed) && failed.GetString() == check, $"expected {error} at {check}: {(int)result.Status} {result.Body}");
    }

    /// <summary>Runs a case against a fresh provider and a fresh brand.</summary>
    private async Task<(HttpStatusCode Status, JsonElement Body)> CaseAsync(Func<HostileProvider, string, string> idToken, Action<HostileProvider>? arrange = null)
    {
        await using var provider = await HostileProvider.StartAsync();
        arrange?.Invoke(provider);
        var deploymentId = await DeploymentAsync(provider);
        return await LogInAsync(deploymentId, provider, nonce => idToken(provider, nonce));
    }

    private static string Valid(HostileProvider p, string nonce) => HostileProvider.Sign(p.Claims(nonce), p.Keys[0].Key, p.Keys[0].Kid);

    private static string Without(HostileProvider p, string nonce, string claim)
    {
        var claims = p.Claims(nonce);
        claims.Remove(claim);
        return HostileProvider.Sign(claims, p.Keys[0].Key, p.Keys[0].Kid);
    }

    private static string With(HostileProvider p, string nonce, string claim, JsonNode? value)
    {
        var claims = p.Claims(nonce);
        claims[claim] = value;
        return HostileProvider.Sign(claims, p.Keys[0].Key, p.Keys[0].Kid);
    }

    [Fact]
    public async Task Rp_id_token_sig_rs256_a_valid_id_token_is_accepted() => Accepted(await CaseAsync(Valid));

    [Fact]
    public async Task Rp_id_token_bad_sig_rs256_a_signature_by_another_key_is_refused() =>
        Refused(await CaseAsync((p, n) => HostileProvider.Sign(p.Claims(n), RSA.Create(2048), "k1")), "invalid_grant", "signature");

    [Fact]
    public async Task Rp_id_token_sig_none_an_unsigned_id_token_is_refused_even_from_the_token_endpoint() =>
        Refused(await CaseAsync((p, n) => HostileProvider.Sign(p.Claims(n), p.Keys[0].Key, "k1", alg: "none")), "invalid_grant", "alg");

    [Fact]
    public async Task Rp_id_token_iss_mismatch_is_refused() =>
        Refused(await CaseAsync((p, n) => With(p, n, "iss", "https://evil.example")), "invalid_grant", "iss");

    [Fact]
    public async Task Rp_id_token_aud_mismatch_is_refused() =>
        Refused(await CaseAsync((p, n) => With(p, n, "aud", "another-client")), "invalid_grant", "aud");

    [Fact]
    public async Task Parley_id_token_aud_missing_is_refused() =>
        Refused(await CaseAsync((p, n) => Without(p, n, "aud")), "invalid_grant", "aud");

    [Fact]
    public async Task Rp_id_token_iat_an_id_token_without_iat_is_refused() =>
        Refused(await CaseAsync((p, n) => Without(p, n, "iat")), "invalid_grant", "iat");

    [Fact]
    public async Task Rp_id_token_sub_an_id_token_without_sub_is_refused() =>
        Refused(await CaseAsync((p, n) => Without(p, n, "sub")), "invalid_grant", "sub");

    [Fact]
    public async Task Rp_nonce_invalid_an_id_token_with_another_nonce_is_refused() =>
        Refused(await CaseAsync((p, _) => Valid(p, "a-nonce-parley-never-issued")), "invalid_grant", "nonce");

    [Fact]
    public async Task Rp_id_token_kid_absent_single_jwks_the_only_key_is_used() =>
        Accepted(await CaseAsync(
            (p, n) => HostileProvider.Sign(p.Claims(n), p.Keys[0].Key, kid: null),
            p => p.Keys[0] = (null, p.Keys[0].Key)));

    /// <summary>The certification allows either answer; Parley tries the issuer's published signing keys for the algorithm.</summary>
    [Fact]
    public async Task Rp_id_token_kid_absent_multiple_jwks_the_issuers_keys_are_tried() =>
        Accepted(await CaseAsync(
            (p, n) => HostileProvider.Sign(p.Claims(n), p.Keys[1].Key, kid: null),
            p => p.Keys.Insert(0, ("k0", RSA.Create(2048)))));

    [Fact]
    public async Task Rp_key_rotation_op_sign_key_a_new_signing_key_is_fetched_once_and_used()
    {
        await using var provider = await HostileProvider.StartAsync();
        var deploymentId = await DeploymentAsync(provider);
        Accepted(await LogInAsync(deploymentId, provider, nonce => Valid(provider, nonce)));

        var rotated = RSA.Create(2048);
        provider.Keys.Clear();
        provider.Keys.Add(("k2", rotated));
        Accepted(await LogInAsync(deploymentId, provider, nonce => HostileProvider.Sign(provider.Claims(nonce), rotated, "k2")));
    }

    [Fact]
    public async Task Parley_discovery_jwks_uri_change_the_new_key_set_is_used_once_discovery_is_read_again()
    {
        await using var provider = await HostileProvider.StartAsync();
        var deploymentId = await DeploymentAsync(provider);
        Accepted(await LogInAsync(deploymentId, provider, nonce => Valid(provider, nonce)));

        var moved = RSA.Create(2048);
        provider.SecondKeys.Add(("k9", moved));
        provider.JwksPath = "/jwks-2";
        Accepted(await LogInAsync(deploymentId, provider, nonce => HostileProvider.Sign(provider.Claims(nonce), moved, "k9")));
    }

    [Fact]
    public async Task Rp_discovery_issuer_not_matching_config_is_refused_and_nothing_from_it_is_used()
    {
        await using var provider = await HostileProvider.StartAsync();
        provider.DiscoveryIssuer = "https://evil.example";
        var deploymentId = await DeploymentAsync(provider);

        var (status, body) = await LogInAsync(deploymentId, provider, nonce => Valid(provider, nonce));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("temporarily_unavailable", body.GetProperty("code").GetString());
        Assert.Contains("is not the configured issuer", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, provider.TokenRequests);
    }

    [Fact]
    public async Task Parley_jwks_unparseable_extra_key_is_ignored_and_the_good_key_works() =>
        Accepted(await CaseAsync(Valid, p =>
        {
            p.ExtraKeys.Add(new JsonObject { ["kty"] = "RSA", ["kid"] = "broken", ["n"] = "%%%not-base64%%%", ["e"] = 12 });
            p.ExtraKeys.Add(new JsonObject { ["kty"] = "unknown-type", ["kid"] = "strange" });
            p.ExtraKeys.Add(JsonValue.Create("not even an object"));
        }));

    [Fact]
    public async Task Rp_token_endpoint_client_secret_basic_parley_authenticates_with_http_basic() =>
        Accepted(await CaseAsync(Valid, p => p.RequireBasic = true));

    [Fact]
    public async Task Parley_token_endpoint_refusing_the_client_is_invalid_client() =>
        Refused(await CaseAsync(Valid, p => p.RequireBasic = false), "invalid_client", "token_response");
}
