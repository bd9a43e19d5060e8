using System.Security.Cryptography;
using System.Text;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

public sealed class AcceptanceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly TokenValidator _validator = new(new ManualTime(Now));

    private static TokenValidationSettings Settings => new() { Issuer = Issuer, Audience = Audience, DecryptionKey = ParleyEncryptionKey };

    private Task<TokenValidationResult> ValidateAsync(string token, TokenValidationSettings? settings = null, IKeySource? keys = null) =>
        _validator.ValidateAsync(token, settings ?? Settings, keys ?? RefusalTests.Keys(), CancellationToken.None);

    private static void AssertValid(TokenValidationResult result) =>
        Assert.True(result.IsValid, $"{result.Error} at {result.FailedCheck}: {result.Description}");

    [Theory]
    [InlineData("RS256", "k1")]
    [InlineData("RS384", "k1")]
    [InlineData("RS512", "k1")]
    [InlineData("PS256", "k1")]
    [InlineData("PS384", "k1")]
    [InlineData("PS512", "k1")]
    [InlineData("ES256", "e256")]
    [InlineData("ES384", "e384")]
    [InlineData("ES512", "e521")]
    public async Task Asymmetric_signatures_verify(string alg, string kid)
    {
        var result = await ValidateAsync(Sign(alg, TokenFactory.Claims(Now), kid));
        AssertValid(result);
        Assert.Equal("customer-42", result.Identity!.Subject);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task Hmac_signatures_verify_with_the_configured_secret(string alg)
    {
        var secret = RandomNumberGenerator.GetBytes(64);
        var result = await ValidateAsync(
            Sign(alg, TokenFactory.Claims(Now), key: secret),
            Settings with { AllowedAlgorithms = [alg], HmacSecret = secret });
        AssertValid(result);
    }

    [Fact]
    public async Task A_secret_shorter_than_the_hash_is_refused()
    {
        var secret = RandomNumberGenerator.GetBytes(16);
        var result = await ValidateAsync(Sign("HS256", TokenFactory.Claims(Now), key: secret), Settings with { AllowedAlgorithms = ["HS256"], HmacSecret = secret });
        Assert.Equal("key", result.FailedCheck);
    }

    [Theory]
    [InlineData("RSA-OAEP", "A128GCM")]
    [InlineData("RSA-OAEP", "A256GCM")]
    [InlineData("RSA-OAEP", "A128CBC-HS256")]
    [InlineData("RSA-OAEP", "A256CBC-HS512")]
    [InlineData("RSA-OAEP-256", "A128GCM")]
    [InlineData("RSA-OAEP-256", "A256GCM")]
    [InlineData("RSA-OAEP-256", "A128CBC-HS256")]
    [InlineData("RSA-OAEP-256", "A256CBC-HS512")]
    public async Task Signed_tokens_encrypted_to_parley_decrypt_and_verify(string alg, string enc)
    {
        var result = await ValidateAsync(Encrypt(Sign("RS256", TokenFactory.Claims(Now)), alg, enc));
        AssertValid(result);
        Assert.Contains(result.Checks, c => c.Name == "decrypt" && c.Ok);
    }

    [Fact]
    public async Task Claims_map_to_the_consumer_identity()
    {
        var token = Sign("RS256", TokenFactory.Claims(Now, c =>
        {
            c["family_name"] = "Lovelace";
            c["phone_number"] = "+44 20 7946 0000";
            c["acr"] = "urn:brand:mfa";
            c["lwicontexts"] = "{\"msdyn_cartvalue\":\"10000\",\"msdyn_isvip\":true,\"tier\":3}";
        }));

        var identity = (await ValidateAsync(token)).Identity!;

        Assert.Equal((Issuer, "customer-42"), (identity.Issuer, identity.Subject));
        Assert.Equal("Ada", identity.VerifiedClaims["given_name"]);
        Assert.Equal("Lovelace", identity.VerifiedClaims["family_name"]);
        Assert.Equal("ada@example.com", identity.VerifiedClaims["email"]);
        Assert.Equal("+44 20 7946 0000", identity.VerifiedClaims["phone_number"]);
        Assert.False(identity.VerifiedClaims.ContainsKey("iss"));
        Assert.False(identity.VerifiedClaims.ContainsKey("lwicontexts"));
        Assert.Equal("10000", identity.ContextVariables["msdyn_cartvalue"]);
        Assert.Equal("true", identity.ContextVariables["msdyn_isvip"]);
        Assert.Equal("3", identity.ContextVariables["tier"]);
        Assert.Equal("urn:brand:mfa", identity.Acr);
        Assert.Equal(Now.AddMinutes(10), identity.ExpiresAt);
    }

    [Fact]
    public async Task How_the_visitor_authenticated_is_read_and_a_malformed_or_future_auth_time_or_amr_is_refused()
    {
        var token = Sign("RS256", TokenFactory.Claims(Now, c =>
        {
            c["auth_time"] = Now.AddMinutes(-3).ToUnixTimeSeconds();
            c["amr"] = new System.Text.Json.Nodes.JsonArray("pwd", "otp");
        }));
        var identity = (await ValidateAsync(token)).Identity!;
        Assert.Equal(Now.AddMinutes(-3), identity.AuthTime);
        Assert.Equal(["pwd", "otp"], identity.Amr!);
        Assert.False(identity.VerifiedClaims.ContainsKey("amr"));

        foreach (var (name, value) in new (string, System.Text.Json.Nodes.JsonNode)[]
        {
            ("auth_time", Now.AddHours(1).ToUnixTimeSeconds()),
            ("auth_time", "yesterday"),
            ("amr", "pwd"),
            ("amr", new System.Text.Json.Nodes.JsonArray("pwd", 3)),
        })
        {
            var refused = await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now, c => c[name] = value.DeepClone())));
            Assert.Equal(("invalid_token", name), (refused.Error, refused.FailedCheck));
        }
    }

    [Fact]
    public async Task A_token_without_kid_verifies_against_the_only_key_or_any_of_several()
    {
        var single = new StaticKeySource(KeySetParser.Parse(Rsa.ExportSubjectPublicKeyInfoPem()));
        AssertValid(await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now), kid: null), keys: single));
        AssertValid(await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now), kid: null)));
        var several = new StaticKeySource(KeySetParser.Parse(Jwks(Jwk(OtherRsa, "a"), Jwk(Rsa, "b"))));
        AssertValid(await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now), kid: null), keys: several));
    }

    [Fact]
    public async Task The_dynamics_kid_list_is_read_and_expired_entries_are_not_used()
    {
        string Entry(RSA rsa, string kid, DateTimeOffset expiry) => Json(new
        {
            kid,
            publicKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())),
            expiry = expiry.ToUnixTimeSeconds(),
        });
        var list = "[" + Entry(Rsa, "qWO4EaKT1xRO7JC/oqALz6DCVr41B/qL0Hqp__valid=", Now.AddDays(30)) + "," + Entry(OtherRsa, "old", Now.AddDays(-1)) + "]";
        var keys = new StaticKeySource(KeySetParser.Parse(list));

        AssertValid(await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now), kid: "qWO4EaKT1xRO7JC/oqALz6DCVr41B/qL0Hqp__valid="), keys: keys));
        Assert.Equal("key", (await ValidateAsync(Sign("RS256", TokenFactory.Claims(Now), kid: "old", key: OtherRsa), keys: keys)).FailedCheck);
    }

    [Fact]
    public async Task Clock_skew_is_applied_to_exp_nbf_and_iat()
    {
        var token = Sign("RS256", TokenFactory.Claims(Now, c =>
        {
            c["exp"] = Now.AddSeconds(-30).ToUnixTimeSeconds();
            c["nbf"] = Now.AddSeconds(30).ToUnixTimeSeconds();
            c["iat"] = Now.AddSeconds(30).ToUnixTimeSeconds();
        }));

        AssertValid(await ValidateAsync(token));
        Assert.Equal("exp", (await ValidateAsync(token, Settings with { ClockSkew = TimeSpan.FromSeconds(10) })).FailedCheck);
    }

    [Fact]
    public async Task Several_audiences_are_accepted_when_azp_names_parley()
    {
        var token = Sign("RS256", TokenFactory.Claims(Now, c => { c["aud"] = new[] { "other", Audience }; c["azp"] = Audience; }));
        AssertValid(await ValidateAsync(token));
    }

    [Fact]
    public async Task The_nonce_parley_sent_is_accepted()
    {
        var token = Sign("RS256", TokenFactory.Claims(Now, c => c["nonce"] = "n-123"));
        AssertValid(await ValidateAsync(token, Settings with { ExpectedNonce = "n-123", RequireIssuedAt = true }));
    }

    [Fact]
    public async Task Signature_only_mode_returns_the_payload_without_claim_checks()
    {
        var token = Sign("RS256", new { hello = "world", exp = 1 });
        var result = await ValidateAsync(token, new TokenValidationSettings { SignatureOnly = true });
        AssertValid(result);
        Assert.Equal("world", result.Claims!.Value.GetProperty("hello").GetString());
        Assert.Null(result.Identity);
    }

    [Fact]
    public async Task Arbitrary_garbage_is_refused_without_an_exception()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            var text = i % 2 == 0 ? Encoding.Latin1.GetString(bytes) : string.Join('.', Enumerable.Range(0, random.Next(1, 7)).Select(_ => Convert.ToBase64String(bytes).TrimEnd('=')));
            var result = await ValidateAsync(text);
            Assert.False(result.IsValid);
            Assert.NotNull(result.Error);
        }
    }
}
