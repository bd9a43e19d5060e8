using System.Security.Cryptography;
using System.Text;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

/// <summary>Every refusal the identity core promises: one row per attack or mistake, with the error code and the check that must fail.</summary>
public sealed class RefusalTests
{
    internal static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public sealed record Case(string Error, string Check, Func<string> Token, Func<TokenValidationSettings, TokenValidationSettings>? Settings = null);

    private static Dictionary<string, object?> Valid(Action<Dictionary<string, object?>>? change = null) => TokenFactory.Claims(Now, change);

    // The ECDSA P-256 group order n: r or s equal to 0 or n must never verify.
    private static readonly byte[] P256Order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");

    private static string WithSignature(string token, byte[] signature) => token[..token.LastIndexOf('.')] + "." + Base64Url.Encode(signature);

    private static string Segments(int count) => string.Join('.', Enumerable.Repeat(B64("{}"), count));

    internal static readonly RSA WeakKey = RSA.Create(1024);

    private static RSA Weak => WeakKey;

    public static readonly Dictionary<string, Case> Cases = new()
    {
        ["empty-token"] = new(OAuthErrors.InvalidRequest, "format", () => ""),
        ["two-segments"] = new(OAuthErrors.InvalidToken, "format", () => Segments(2)),
        ["four-segments"] = new(OAuthErrors.InvalidToken, "format", () => Segments(4)),
        ["six-segments"] = new(OAuthErrors.InvalidToken, "format", () => Segments(6)),
        ["json-serialization"] = new(OAuthErrors.InvalidToken, "format", () => Json(new { payload = "x", signatures = Array.Empty<object>() })),
        ["over-size-limit"] = new(OAuthErrors.InvalidToken, "size", () => Sign("RS256", Valid(c => c["pad"] = new string('x', 17_000)))),
        ["alg-none"] = new(OAuthErrors.InvalidToken, "alg", () => B64(HeaderJson("none", "k1")) + "." + B64(Json(Valid())) + "."),
        ["alg-NONE-uppercase"] = new(OAuthErrors.InvalidToken, "alg", () => B64(HeaderJson("NONE", "k1")) + "." + B64(Json(Valid())) + "."),
        ["alg-nOnE-mixed-case"] = new(OAuthErrors.InvalidToken, "alg", () => B64(HeaderJson("nOnE", null)) + "." + B64(Json(Valid())) + "."),
        ["alg-missing"] = new(OAuthErrors.InvalidToken, "alg", () => SignRaw(Json(new { typ = "JWT" }), Json(Valid()), "RS256")),
        ["alg-unsupported"] = new(OAuthErrors.InvalidToken, "alg", () => SignRaw(HeaderJson("RS1", "k1"), Json(Valid()), "RS256")),
        ["alg-not-in-allow-list"] = new(OAuthErrors.InvalidToken, "alg", () => Sign("RS384", Valid()), s => s with { AllowedAlgorithms = ["RS256"] }),
        ["hs256-without-configured-secret"] = new(OAuthErrors.InvalidToken, "alg", () => Sign("HS256", Valid())),
        ["hs256-signed-with-rsa-public-key-bytes"] = new(OAuthErrors.InvalidToken, "alg",
            () => Sign("HS256", Valid(), key: Encoding.ASCII.GetBytes(Rsa.ExportSubjectPublicKeyInfoPem()))),
        ["hs256-signed-with-rsa-public-key-bytes-hs-allowed"] = new(OAuthErrors.InvalidToken, "signature",
            () => Sign("HS256", Valid(), key: Encoding.ASCII.GetBytes(Rsa.ExportSubjectPublicKeyInfoPem())),
            s => s with { AllowedAlgorithms = ["RS256", "HS256"], HmacSecret = Secret }),
        ["crit-unknown-extension"] = new(OAuthErrors.InvalidToken, "crit", () => Sign("RS256", Valid(), extraHeader: new() { ["crit"] = new[] { "exp" }, ["exp"] = 1 })),
        ["crit-b64-false"] = new(OAuthErrors.InvalidToken, "crit", () => Sign("RS256", Valid(), extraHeader: new() { ["crit"] = new[] { "b64" }, ["b64"] = false })),
        ["typ-access-token"] = new(OAuthErrors.InvalidToken, "typ", () => Sign("RS256", Valid(), extraHeader: new() { ["typ"] = "at+jwt" })),
        ["kid-not-a-string"] = new(OAuthErrors.InvalidToken, "kid", () => Sign("RS256", Valid(), extraHeader: new() { ["kid"] = 7 })),
        ["kid-path-traversal"] = new(OAuthErrors.InvalidToken, "key", () => Sign("RS256", Valid(), kid: "../../../../etc/passwd")),
        ["kid-unknown"] = new(OAuthErrors.InvalidToken, "key", () => Sign("RS256", Valid(), kid: "rotated-away")),
        ["kid-of-a-key-for-another-alg"] = new(OAuthErrors.InvalidToken, "key", () => Sign("ES256", Valid(), kid: "k1")),
        ["kid-of-wrong-curve"] = new(OAuthErrors.InvalidToken, "key", () => Sign("ES256", Valid(), kid: "e384", key: P384)),
        ["attacker-jwk-header"] = new(OAuthErrors.InvalidToken, "signature",
            () => Sign("RS256", Valid(), kid: null, extraHeader: new() { ["jwk"] = System.Text.Json.JsonDocument.Parse(Jwk(OtherRsa, "evil")).RootElement }, key: OtherRsa)),
        ["attacker-x5c-header"] = new(OAuthErrors.InvalidToken, "signature",
            () => Sign("RS256", Valid(), kid: "k1", extraHeader: new() { ["x5c"] = new[] { "MIIB" } }, key: OtherRsa)),
        ["wrong-key"] = new(OAuthErrors.InvalidToken, "signature", () => Sign("RS256", Valid(), key: OtherRsa)),
        ["tampered-payload"] = new(OAuthErrors.InvalidToken, "signature", () =>
        {
            var parts = Sign("RS256", Valid()).Split('.');
            return parts[0] + "." + B64(Json(Valid(c => c["sub"] = "admin"))) + "." + parts[2];
        }),
        ["rs256-signature-truncated"] = new(OAuthErrors.InvalidToken, "signature", () => { var t = Sign("RS256", Valid()); return t[..^4]; }),
        ["es256-r-and-s-zero"] = new(OAuthErrors.InvalidToken, "signature", () => WithSignature(Sign("ES256", Valid(), kid: "e256"), new byte[64])),
        ["es256-r-and-s-equal-n"] = new(OAuthErrors.InvalidToken, "signature", () => WithSignature(Sign("ES256", Valid(), kid: "e256"), [.. P256Order, .. P256Order])),
        ["es256-r-zero-s-valid"] = new(OAuthErrors.InvalidToken, "signature", () =>
        {
            var token = Sign("ES256", Valid(), kid: "e256");
            Base64Url.TryDecode(token[(token.LastIndexOf('.') + 1)..], out var sig);
            Array.Clear(sig, 0, 32);
            return WithSignature(token, sig);
        }),
        ["es256-der-signature"] = new(OAuthErrors.InvalidToken, "signature", () =>
        {
            var token = Sign("ES256", Valid(), kid: "e256");
            var input = Encoding.ASCII.GetBytes(token[..token.LastIndexOf('.')]);
            return WithSignature(token, P256.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }),
        ["header-padded-base64"] = new(OAuthErrors.InvalidToken, "header", () => { var t = Sign("RS256", Valid()).Split('.'); return t[0] + "==." + t[1] + "." + t[2]; }),
        ["signature-standard-base64"] = new(OAuthErrors.InvalidToken, "signature", () =>
        {
            var t = Sign("RS256", Valid()).Split('.');
            return t[0] + "." + t[1] + "." + t[2].Replace('-', '+').Replace('_', '/') + (t[2].Contains('-') || t[2].Contains('_') ? "" : "+");
        }),
        ["non-canonical-trailing-bits"] = new(OAuthErrors.InvalidToken, "header", () =>
        {
            var t = Sign("RS256", Valid()).Split('.');
            var last = t[0][^1];
            var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            return t[0][..^1] + alphabet[alphabet.IndexOf(last) ^ 1] + "." + t[1] + "." + t[2];
        }),
        ["header-duplicate-alg"] = new(OAuthErrors.InvalidToken, "header", () => SignRaw("{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"k1\"}", Json(Valid()), "RS256")),
        ["header-not-an-object"] = new(OAuthErrors.InvalidToken, "header", () => SignRaw("[\"RS256\"]", Json(Valid()), "RS256")),
        ["payload-duplicate-sub"] = new(OAuthErrors.InvalidToken, "payload", () => Sign("RS256", Json(Valid()).TrimEnd('}') + ",\"sub\":\"admin\"}")),
        ["payload-duplicate-sub-escaped"] = new(OAuthErrors.InvalidToken, "payload", () => Sign("RS256", Json(Valid()).TrimEnd('}') + ",\"s\\u0075b\":\"admin\"}")),
        ["payload-duplicate-in-a-large-object"] = new(OAuthErrors.InvalidToken, "payload",
            () => Sign("RS256", Json(Valid()).TrimEnd('}') + string.Concat(Enumerable.Range(0, 40).Select(i => $",\"c{i}\":{i}")) + ",\"c3\":0}")),
        ["payload-duplicate-nested"] = new(OAuthErrors.InvalidToken, "payload", () => Sign("RS256", Json(Valid()).TrimEnd('}') + ",\"x\":{\"a\":1,\"b\":{\"c\":1,\"c\":2}}}")),
        ["payload-array"] = new(OAuthErrors.InvalidToken, "payload", () => Sign("RS256", "[1,2]")),
        ["payload-not-json"] = new(OAuthErrors.InvalidToken, "payload", () => Sign("RS256", "hello")),
        ["iss-wrong"] = new(OAuthErrors.InvalidToken, "iss", () => Sign("RS256", Valid(c => c["iss"] = "https://evil.example"))),
        ["iss-missing"] = new(OAuthErrors.InvalidToken, "iss", () => Sign("RS256", Valid(c => c.Remove("iss")))),
        ["iss-trailing-slash"] = new(OAuthErrors.InvalidToken, "iss", () => Sign("RS256", Valid(c => c["iss"] = Issuer + "/"))),
        ["aud-wrong"] = new(OAuthErrors.InvalidToken, "aud", () => Sign("RS256", Valid(c => c["aud"] = "someone-else"))),
        ["aud-missing"] = new(OAuthErrors.InvalidToken, "aud", () => Sign("RS256", Valid(c => c.Remove("aud")))),
        ["aud-number"] = new(OAuthErrors.InvalidToken, "aud", () => Sign("RS256", Valid(c => c["aud"] = 5))),
        ["aud-several-without-azp"] = new(OAuthErrors.InvalidToken, "azp", () => Sign("RS256", Valid(c => c["aud"] = new[] { Audience, "other" }))),
        ["aud-several-with-other-azp"] = new(OAuthErrors.InvalidToken, "azp", () => Sign("RS256", Valid(c => { c["aud"] = new[] { Audience, "other" }; c["azp"] = "other"; }))),
        ["exp-missing"] = new(OAuthErrors.InvalidToken, "exp", () => Sign("RS256", Valid(c => c.Remove("exp")))),
        ["exp-past"] = new(OAuthErrors.InvalidToken, "exp", () => Sign("RS256", Valid(c => c["exp"] = Now.AddSeconds(-61).ToUnixTimeSeconds()))),
        ["exp-string"] = new(OAuthErrors.InvalidToken, "exp", () => Sign("RS256", Valid(c => c["exp"] = Now.AddMinutes(5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)))),
        ["nbf-future"] = new(OAuthErrors.InvalidToken, "nbf", () => Sign("RS256", Valid(c => c["nbf"] = Now.AddMinutes(2).ToUnixTimeSeconds()))),
        ["iat-future"] = new(OAuthErrors.InvalidToken, "iat", () => Sign("RS256", Valid(c => c["iat"] = Now.AddMinutes(2).ToUnixTimeSeconds()))),
        ["iat-missing-when-required"] = new(OAuthErrors.InvalidToken, "iat", () => Sign("RS256", Valid(c => c.Remove("iat"))), s => s with { RequireIssuedAt = true }),
        ["token-too-old"] = new(OAuthErrors.InvalidToken, "max_age", () => Sign("RS256", Valid(c => c["iat"] = Now.AddHours(-2).ToUnixTimeSeconds())), s => s with { MaxTokenAge = TimeSpan.FromHours(1) }),
        ["sub-missing"] = new(OAuthErrors.InvalidToken, "sub", () => Sign("RS256", Valid(c => c.Remove("sub")))),
        ["sub-empty"] = new(OAuthErrors.InvalidToken, "sub", () => Sign("RS256", Valid(c => c["sub"] = ""))),
        ["sub-number"] = new(OAuthErrors.InvalidToken, "sub", () => Sign("RS256", Valid(c => c["sub"] = 42))),
        ["nonce-wrong"] = new(OAuthErrors.InvalidToken, "nonce", () => Sign("RS256", Valid(c => c["nonce"] = "other")), s => s with { ExpectedNonce = "n-123" }),
        ["nonce-missing"] = new(OAuthErrors.InvalidToken, "nonce", () => Sign("RS256", Valid()), s => s with { ExpectedNonce = "n-123" }),
        ["lwicontexts-not-json"] = new(OAuthErrors.InvalidToken, "lwicontexts", () => Sign("RS256", Valid(c => c["lwicontexts"] = "{not json"))),
        ["rsa-1024-key-ignored"] = new(OAuthErrors.InvalidToken, "key", () => Sign("RS256", Valid(), kid: "weak", key: Weak)),
        ["jwe-without-inner-signature"] = new(OAuthErrors.InvalidToken, "cty", () => Encrypt(Json(Valid()))),
        ["jwe-inner-alg-none"] = new(OAuthErrors.InvalidToken, "alg", () => Encrypt(B64(HeaderJson("none", null)) + "." + B64(Json(Valid())) + ".")),
        ["jwe-without-cty"] = new(OAuthErrors.InvalidToken, "cty", () => Encrypt(Sign("RS256", Valid()), extraHeader: new() { ["cty"] = null })),
        ["jwe-zip"] = new(OAuthErrors.InvalidToken, "zip", () => Encrypt(Sign("RS256", Valid()), extraHeader: new() { ["zip"] = "DEF" })),
        ["jwe-dir"] = new(OAuthErrors.InvalidToken, "alg", () => B64(Json(new { alg = "dir", enc = "A256GCM" })) + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"),
        ["jwe-rsa1_5"] = new(OAuthErrors.InvalidToken, "alg", () => B64(Json(new { alg = "RSA1_5", enc = "A128CBC-HS256" })) + ".AAAA.AAAA.AAAA.AAAA"),
        ["jwe-pbes2"] = new(OAuthErrors.InvalidToken, "alg", () => B64(Json(new { alg = "PBES2-HS256+A128KW", enc = "A128GCM", p2c = 10_000_000, p2s = "AAAA" })) + ".AAAA.AAAA.AAAA.AAAA"),
        ["jwe-unknown-enc"] = new(OAuthErrors.InvalidToken, "enc", () => B64(Json(new { alg = "RSA-OAEP", enc = "A192GCM" })) + ".AAAA.AAAA.AAAA.AAAA"),
        ["jwe-to-another-key"] = new(OAuthErrors.InvalidToken, "decrypt", () => Encrypt(Sign("RS256", Valid()), recipient: OtherRsa)),
        ["jwe-tampered-ciphertext"] = new(OAuthErrors.InvalidToken, "decrypt", () =>
        {
            var p = Encrypt(Sign("RS256", Valid()), enc: "A128CBC-HS256").Split('.');
            Base64Url.TryDecode(p[3], out var ct);
            ct[0] ^= 1;
            p[3] = Base64Url.Encode(ct);
            return string.Join('.', p);
        }),
        ["jwe-without-decryption-key"] = new(OAuthErrors.InvalidToken, "decrypt", () => Encrypt(Sign("RS256", Valid())), s => s with { DecryptionKey = null }),
        ["expired-key-in-kid-list"] = new(OAuthErrors.InvalidToken, "key", () => Sign("RS256", Valid(), kid: "expired")),
    };

    public static TheoryData<string> Ids => [.. Cases.Keys];

    internal static TokenValidationSettings Settings => new()
    {
        Issuer = Issuer,
        Audience = Audience,
        DecryptionKey = ParleyEncryptionKey,
    };

    internal static IKeySource Keys()
    {
        var set = KeySetParser.Parse(BrandJwks());
        var weak = KeySetParser.Parse(Jwks(Jwk(Weak, "weak")));
        var expired = VerificationKey.FromRsa(RSA.Create(Rsa.ExportParameters(false)), "expired", expiry: Now.AddDays(-1));
        return new StaticKeySource(new KeySet([.. set.Keys, .. weak.Keys, expired], weak.Notes));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task Refused(string id)
    {
        var @case = Cases[id];
        var settings = @case.Settings?.Invoke(Settings) ?? Settings;
        var validator = new TokenValidator(new ManualTime(Now));

        var result = await validator.ValidateAsync(@case.Token(), settings, Keys(), CancellationToken.None);

        Assert.False(result.IsValid, $"{id} was accepted");
        Assert.Equal((@case.Error, @case.Check), (result.Error, result.FailedCheck));
        Assert.False(string.IsNullOrWhiteSpace(result.Description));
        Assert.Null(result.Identity);
        Assert.Contains(result.Checks, c => c.Name == @case.Check && !c.Ok);
    }

    [Fact]
    public void A_1024_bit_rsa_key_is_skipped_with_a_note()
    {
        var set = KeySetParser.Parse(Jwks(Jwk(Weak, "weak"), Jwk(Rsa, "k1")));
        Assert.Equal(["k1"], set.Keys.Select(k => k.Kid));
        Assert.Contains(set.Notes, n => n.Contains("2048", StringComparison.Ordinal));
    }

    [Fact]
    public void A_jwks_with_a_duplicate_kid_is_refused()
    {
        var error = Assert.Throws<KeySetException>(() => KeySetParser.Parse(Jwks(Jwk(Rsa, "same"), Jwk(OtherRsa, "same"))));
        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_for_encryption_unknown_types_and_wrong_ops_are_ignored()
    {
        var set = KeySetParser.Parse(Jwks(
            Jwk(Rsa, "enc-key", use: "enc"),
            Json(new { kty = "OKP", kid = "ed", crv = "Ed25519", x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
            Json(new { kty = "RSA", kid = "ops", key_ops = new[] { "encrypt" }, n = "AQAB", e = "AQAB" }),
            Json(new { kty = "oct", kid = "hmac", k = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI" }),
            "{\"kty\":\"RSA\",\"kid\":\"broken\",\"n\":\"not base64!\",\"e\":\"AQAB\"}",
            Jwk(Rsa, "sig-key", alg: "RS256", use: "sig")));

        Assert.Equal(["sig-key"], set.Keys.Select(k => k.Kid));
        Assert.Equal(5, set.Notes.Count);
    }
}
