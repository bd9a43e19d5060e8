using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Parley.Identity.CodeFlow;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using Parley.Testing;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

/// <summary>The authorization-code exchange against a real local token endpoint.</summary>
public sealed class CodeExchangeTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly KeySourceOptions Options = new() { AllowHttpLoopback = true, FetchTimeout = TimeSpan.FromSeconds(3) };
    private readonly HttpClient _http = new();
    private BrandEndpoint _brand = null!;
    private IFormCollection? _lastForm;
    private string? _lastAuthorization;

    public async Task InitializeAsync()
    {
        _brand = await BrandEndpoint.StartAsync();
        await _http.GetAsync(_brand.Url("/warm-up"));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _brand.DisposeAsync();
    }

    private void TokenEndpoint(int status, object body) =>
        _brand.Routes["/token"] = async context =>
        {
            _lastForm = await context.Request.ReadFormAsync();
            _lastAuthorization = context.Request.Headers.Authorization;
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(body));
        };

    private CodeExchangeRequest Request(ClientAuthentication authentication = ClientAuthentication.ClientSecretBasic, string? verifier = "verifier-abc") =>
        new(_brand.Url("/token"), "parley client", "s3cret:with/odd=chars", authentication, "code-123", "https://parley.example/callback", verifier);

    private Task<TokenValidationResult> ExchangeAsync(CodeExchangeRequest request, string nonce = "n-1") =>
        new CodeExchangeClient(_http, new TokenValidator(TimeProvider.System), Options).ExchangeAsync(
            request,
            new TokenValidationSettings { Issuer = Issuer, Audience = Audience, ExpectedNonce = nonce },
            new StaticKeySource(KeySetParser.Parse(BrandJwks())),
            CancellationToken.None);

    private static string IdToken(Action<Dictionary<string, object?>>? change = null) =>
        Sign("RS256", TokenFactory.Claims(Now, c => { c["nonce"] = "n-1"; change?.Invoke(c); }));

    [Fact]
    public async Task A_code_is_exchanged_with_client_secret_basic_and_pkce_and_the_id_token_validated()
    {
        TokenEndpoint(200, new { access_token = "at", token_type = "Bearer", id_token = IdToken(), expires_in = 300 });

        var result = await ExchangeAsync(Request());

        Assert.True(result.IsValid, result.Description);
        Assert.Equal("customer-42", result.Identity!.Subject);
        Assert.Equal("authorization_code", _lastForm!["grant_type"]);
        Assert.Equal("code-123", _lastForm["code"]);
        Assert.Equal("https://parley.example/callback", _lastForm["redirect_uri"]);
        Assert.Equal("verifier-abc", _lastForm["code_verifier"]);
        Assert.False(_lastForm.ContainsKey("client_secret"));
        var basic = Encoding.UTF8.GetString(Convert.FromBase64String(_lastAuthorization!["Basic ".Length..]));
        Assert.Equal("parley%20client:s3cret%3Awith%2Fodd%3Dchars", basic);
    }

    [Fact]
    public async Task Client_secret_post_sends_the_credentials_in_the_body()
    {
        TokenEndpoint(200, new { token_type = "Bearer", id_token = IdToken() });

        var result = await ExchangeAsync(Request(ClientAuthentication.ClientSecretPost, verifier: null));

        Assert.True(result.IsValid, result.Description);
        Assert.Equal("parley client", _lastForm!["client_id"]);
        Assert.Equal("s3cret:with/odd=chars", _lastForm["client_secret"]);
        Assert.False(_lastForm.ContainsKey("code_verifier"));
        Assert.Null(_lastAuthorization);
    }

    public static TheoryData<string, int, object, string, string> Failures => new()
    {
        { "invalid-grant", 400, new { error = "invalid_grant", error_description = "code expired" }, OAuthErrors.InvalidGrant, "token_response" },
        { "invalid-client", 401, new { error = "invalid_client" }, OAuthErrors.InvalidClient, "token_response" },
        { "unknown-error", 400, new { error = "something_else" }, OAuthErrors.ServerError, "token_response" },
        { "server-down", 503, new { }, OAuthErrors.TemporarilyUnavailable, "token_endpoint" },
        { "no-id-token", 200, new { access_token = "at", token_type = "Bearer" }, OAuthErrors.ServerError, "token_response" },
        { "alg-none-id-token", 200, new { token_type = "Bearer", id_token = B64(HeaderJson("none", null)) + "." + B64(Json(TokenFactory.Claims(Now, c => c["nonce"] = "n-1"))) + "." }, OAuthErrors.InvalidGrant, "alg" },
        { "wrong-nonce", 200, new { token_type = "Bearer", id_token = IdToken(c => c["nonce"] = "other") }, OAuthErrors.InvalidGrant, "nonce" },
        { "missing-iat", 200, new { token_type = "Bearer", id_token = IdToken(c => c.Remove("iat")) }, OAuthErrors.InvalidGrant, "iat" },
        { "wrong-audience", 200, new { token_type = "Bearer", id_token = IdToken(c => c["aud"] = "other-client") }, OAuthErrors.InvalidGrant, "aud" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Token_endpoint_failures_map_to_oauth_errors(string id, int status, object body, string error, string check)
    {
        TokenEndpoint(status, body);
        var result = await ExchangeAsync(Request());
        Assert.False(result.IsValid, id);
        Assert.Equal((error, check), (result.Error, result.FailedCheck));
    }

    [Fact]
    public async Task A_token_endpoint_that_does_not_answer_is_temporarily_unavailable()
    {
        _brand.Routes["/token"] = async context => await Task.Delay(20_000, context.RequestAborted);
        var result = await ExchangeAsync(Request());
        Assert.Equal((OAuthErrors.TemporarilyUnavailable, "token_endpoint"), (result.Error, result.FailedCheck));
    }

    [Fact]
    public async Task A_plain_http_token_endpoint_is_refused_before_any_request()
    {
        var request = Request() with { TokenEndpoint = new Uri("http://idp.brand.example/token") };
        var result = await ExchangeAsync(request);
        Assert.Equal((OAuthErrors.ServerError, "token_endpoint"), (result.Error, result.FailedCheck));
    }
}
