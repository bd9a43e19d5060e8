using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using Parley.Testing;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

/// <summary>Key URLs and discovery against a real local HTTP server: rotation, floods of unknown kids, outages, limits.</summary>
public sealed class KeySourceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new(Start);
    private readonly HttpClient _http = new();
    private BrandEndpoint _brand = null!;

    private static readonly KeySourceOptions Options = new()
    {
        AllowHttpLoopback = true,
        CacheTtl = TimeSpan.FromMinutes(10),
        RefetchCooldown = TimeSpan.FromSeconds(30),
        MaxStale = TimeSpan.FromHours(1),
        FetchTimeout = TimeSpan.FromMilliseconds(1500),
        MaxResponseBytes = 64 * 1024,
    };

    public async Task InitializeAsync()
    {
        _brand = await BrandEndpoint.StartAsync();
        // Warm the server up so a first-request JIT pause is not mistaken for a slow brand.
        await _http.GetAsync(_brand.Url("/warm-up"));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _brand.DisposeAsync();
    }

    private static TokenValidationSettings Settings => new() { Issuer = Issuer, Audience = Audience };

    private Task<TokenValidationResult> ValidateAsync(string token, IKeySource keys) =>
        new TokenValidator(_time).ValidateAsync(token, Settings, keys, CancellationToken.None);

    private string Token(string kid, object? key = null) => Sign("RS256", TokenFactory.Claims(_time.GetUtcNow()), kid, key: key);

    [Fact]
    public async Task A_rotated_key_is_picked_up_by_one_refetch_on_its_unknown_kid()
    {
        _brand.Serve("/jwks", Jwks(Jwk(Rsa, "old")));
        var source = new HttpKeySource(_brand.Url("/jwks"), _http, Options, _time);
        Assert.True((await ValidateAsync(Token("old"), source)).IsValid);

        // Rotated moments after Parley fetched the set: the cooldown counts from the last refetch a
        // kid caused, not from the first fetch.
        _brand.Serve("/jwks", Jwks(Jwk(Rsa, "old"), Jwk(OtherRsa, "new")));
        var rotated = await ValidateAsync(Token("new", OtherRsa), source);
        var unknown = await ValidateAsync(Token("unknown"), source);

        Assert.True(rotated.IsValid, rotated.Description);
        Assert.Equal("key", unknown.FailedCheck);
        Assert.Equal(2, _brand.Hits["/jwks"]);
    }

    [Fact]
    public async Task A_flood_of_random_kids_causes_at_most_one_refetch_per_cooldown()
    {
        _brand.Serve("/jwks", Jwks(Jwk(Rsa, "k1")));
        var source = new HttpKeySource(_brand.Url("/jwks"), _http, Options, _time);
        await source.GetKeysAsync(null, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => ValidateAsync(Token($"random-{i}"), source)));
        var afterFlood = _brand.Hits["/jwks"];
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => ValidateAsync(Token($"more-{i}"), source)));

        Assert.All(results, r => Assert.Equal("key", r.FailedCheck));
        Assert.Equal(2, afterFlood);
        Assert.Equal(2, _brand.Hits["/jwks"]);
        _time.Advance(Options.RefetchCooldown);
        await ValidateAsync(Token("later"), source);
        Assert.Equal(3, _brand.Hits["/jwks"]);
    }

    [Fact]
    public async Task The_last_good_keys_are_used_while_the_brand_is_down_then_refused_as_temporarily_unavailable()
    {
        _brand.Serve("/jwks", Jwks(Jwk(Rsa, "k1")));
        var source = new HttpKeySource(_brand.Url("/jwks"), _http, Options, _time);
        Assert.True((await ValidateAsync(Token("k1"), source)).IsValid);

        _brand.Serve("/jwks", "{\"error\":\"down\"}", status: 503);
        _time.Advance(TimeSpan.FromMinutes(11));
        var whileDown = await ValidateAsync(Token("k1"), source);
        _time.Advance(TimeSpan.FromHours(1));
        var tooLong = await ValidateAsync(Token("k1"), source);

        Assert.True(whileDown.IsValid, whileDown.Description);
        Assert.Equal((OAuthErrors.TemporarilyUnavailable, "key"), (tooLong.Error, tooLong.FailedCheck));
        Assert.Contains("503", tooLong.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("slow", "gave no HTTPS answer within")]
    [InlineData("huge", "more than")]
    [InlineData("garbage", "not valid JSON")]
    [InlineData("empty-object", "neither")]
    [InlineData("not-found", "404")]
    public async Task A_broken_key_endpoint_is_a_clear_temporarily_unavailable(string behaviour, string described)
    {
        _brand.Routes["/jwks"] = behaviour switch
        {
            "slow" => async context => { await Task.Delay(10_000, context.RequestAborted); await context.Response.WriteAsync(Jwks(Jwk(Rsa, "k1"))); },
            "huge" => async context => await context.Response.WriteAsync("{\"keys\":[" + new string(' ', 100_000) + "]}"),
            "garbage" => async context => await context.Response.WriteAsync("<html>not keys</html>"),
            "empty-object" => async context => await context.Response.WriteAsync("{}"),
            _ => context => { context.Response.StatusCode = 404; return Task.CompletedTask; },
        };
        var source = new HttpKeySource(_brand.Url("/jwks"), _http, Options, _time);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var result = await ValidateAsync(Token("k1"), source);

        Assert.Equal((OAuthErrors.TemporarilyUnavailable, "key"), (result.Error, result.FailedCheck));
        Assert.Contains(described, result.Description, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the wait is bounded by the fetch timeout");
    }

    [Fact]
    public async Task Keys_and_urls_in_the_token_header_are_never_fetched()
    {
        _brand.Serve("/jwks", Jwks(Jwk(Rsa, "k1")));
        _brand.Serve("/attacker-jwks", Jwks(Jwk(OtherRsa, "evil")));
        var source = new HttpKeySource(_brand.Url("/jwks"), _http, Options, _time);
        var header = new Dictionary<string, object?>
        {
            ["jku"] = _brand.Url("/attacker-jwks").ToString(),
            ["x5u"] = _brand.Url("/attacker-cert").ToString(),
            ["jwk"] = JsonDocument.Parse(Jwk(OtherRsa, "evil")).RootElement,
        };

        var result = await ValidateAsync(Sign("RS256", TokenFactory.Claims(Start), kid: "evil", extraHeader: header, key: OtherRsa), source);

        Assert.False(result.IsValid);
        Assert.False(_brand.Hits.ContainsKey("/attacker-jwks"));
        Assert.False(_brand.Hits.ContainsKey("/attacker-cert"));
    }

    [Fact]
    public void Http_key_urls_are_refused_except_on_loopback_when_allowed()
    {
        Assert.Throws<ArgumentException>(() => new HttpKeySource(new Uri("http://keys.brand.example/jwks"), _http, Options, _time));
        Assert.Throws<ArgumentException>(() => new HttpKeySource(_brand.Url("/jwks"), _http, Options with { AllowHttpLoopback = false }, _time));
        _ = new HttpKeySource(new Uri("https://keys.brand.example/jwks"), _http, Options with { AllowHttpLoopback = false }, _time);
    }

    [Fact]
    public async Task Discovery_finds_the_keys_and_follows_a_changed_jwks_uri()
    {
        var issuer = _brand.BaseUri.ToString().TrimEnd('/');
        string Discovery(string jwksPath) => Json(new { issuer, jwks_uri = _brand.Url(jwksPath).ToString(), token_endpoint = _brand.Url("/token").ToString() });
        _brand.Serve("/.well-known/openid-configuration", Discovery("/jwks-a"));
        _brand.Serve("/jwks-a", Jwks(Jwk(Rsa, "a")));
        _brand.Serve("/jwks-b", Jwks(Jwk(OtherRsa, "b")));
        using var source = new DiscoveryKeySource(_brand.Url("/.well-known/openid-configuration"), issuer, _http, Options, _time);
        var settings = Settings with { Issuer = issuer };
        var validator = new TokenValidator(_time);

        var first = await validator.ValidateAsync(Sign("RS256", TokenFactory.Claims(Start, c => c["iss"] = issuer), "a"), settings, source, CancellationToken.None);
        _brand.Serve("/.well-known/openid-configuration", Discovery("/jwks-b"));
        // No wait for the cache TTL: kid "b" is unknown, so the document is read again at once.
        var second = await validator.ValidateAsync(Sign("RS256", TokenFactory.Claims(_time.GetUtcNow(), c => c["iss"] = issuer), "b", key: OtherRsa), settings, source, CancellationToken.None);

        Assert.True(first.IsValid, first.Description);
        Assert.True(second.IsValid, second.Description);
        Assert.Equal(2, _brand.Hits["/.well-known/openid-configuration"]);
        Assert.Equal(_brand.Url("/token"), (await source.GetMetadataAsync(CancellationToken.None)).TokenEndpoint);

        // A flood of unknown kids re-reads the document at most once per cooldown.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            validator.ValidateAsync(Sign("RS256", TokenFactory.Claims(_time.GetUtcNow(), c => c["iss"] = issuer), $"nope-{i}"), settings, source, CancellationToken.None)));
        Assert.Equal(2, _brand.Hits["/.well-known/openid-configuration"]);
    }

    [Fact]
    public async Task A_discovery_document_for_another_issuer_is_refused()
    {
        _brand.Serve("/.well-known/openid-configuration", Json(new { issuer = "https://evil.example", jwks_uri = _brand.Url("/jwks").ToString() }));
        using var source = new DiscoveryKeySource(_brand.Url("/.well-known/openid-configuration"), Issuer, _http, Options, _time);

        var result = await ValidateAsync(Token("k1"), source);

        Assert.Equal(OAuthErrors.TemporarilyUnavailable, result.Error);
        Assert.Contains("is not the configured issuer", result.Description, StringComparison.Ordinal);
    }
}
