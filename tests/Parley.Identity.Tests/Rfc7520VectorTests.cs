using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Identity.Tests;

/// <summary>The JOSE cookbook (RFC 7520) examples that use algorithms Parley supports verify or decrypt; the others are refused.</summary>
public sealed class Rfc7520VectorTests
{
    private static JsonElement Vector(string path) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "vectors", "rfc7520", path))).RootElement;

    private static string Compact(JsonElement vector) => vector.GetProperty("output").GetProperty("compact").GetString()!;

    private static RSA PrivateRsa(JsonElement jwk)
    {
        byte[] B(string name) { Base64Url.TryDecode(jwk.GetProperty(name).GetString()!, out var bytes); return bytes; }
        return RSA.Create(new RSAParameters
        {
            Modulus = B("n"), Exponent = B("e"), D = B("d"), P = B("p"), Q = B("q"), DP = B("dp"), DQ = B("dq"), InverseQ = B("qi"),
        });
    }

    [Theory]
    [InlineData("jws/4_1.rsa_v15_signature.json")]
    [InlineData("jws/4_2.rsa-pss_signature.json")]
    [InlineData("jws/4_3.ecdsa_signature.json")]
    [InlineData("jws/4_4.hmac-sha2_integrity_protection.json")]
    public void Signature_examples_verify_and_fail_when_tampered(string path)
    {
        var vector = Vector(path);
        var alg = vector.GetProperty("input").GetProperty("alg").GetString()!;
        var jwk = vector.GetProperty("input").GetProperty("key").GetRawText();
        var key = Assert.Single(KeySetParser.Parse(jwk, allowSymmetric: true).Keys);
        var token = Compact(vector);
        var parts = token.Split('.');
        var input = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        Assert.True(Base64Url.TryDecode(parts[2], out var signature));

        Assert.True(key.Supports(alg, DateTimeOffset.UtcNow));
        Assert.True(key.Verify(alg, input, signature));
        input[^1] ^= 1;
        Assert.False(key.Verify(alg, input, signature));
    }

    [Fact]
    public void The_rsa_oaep_aes_gcm_example_decrypts_to_its_plaintext()
    {
        var vector = Vector("jwe/5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json");
        var plaintext = TokenValidator.DecryptCompact(Compact(vector), PrivateRsa(vector.GetProperty("input").GetProperty("key")));
        Assert.Equal(vector.GetProperty("input").GetProperty("plaintext").GetString(), Encoding.UTF8.GetString(plaintext!));
    }

    [Theory]
    [InlineData("jwe/5_9.compressed_content.json", "zip")]
    [InlineData("jwe/5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json", "alg")]
    [InlineData("jwe/5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json", "alg")]
    [InlineData("jwe/5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json", "alg")]
    [InlineData("jwe/5_6.direct_encryption_using_aes-gcm.json", "alg")]
    [InlineData("jwe/5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json", "alg")]
    [InlineData("jwe/5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json", "alg")]
    [InlineData("jwe/5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json", "alg")]
    [InlineData("curve25519/ecdh-es.json", "alg")]
    [InlineData("curve25519/jws.json", "alg")]
    public async Task Unsupported_encryption_examples_are_refused(string path, string check)
    {
        var vector = Vector(path);
        var result = await new TokenValidator(TimeProvider.System).ValidateAsync(
            Compact(vector), new TokenValidationSettings { Issuer = "x", Audience = "y", DecryptionKey = TokenFactory.ParleyEncryptionKey },
            new StaticKeySource(KeySet.Empty), CancellationToken.None);

        Assert.Equal((OAuthErrors.InvalidToken, check), (result.Error, result.FailedCheck));
    }

    [Fact]
    public async Task The_nested_example_decrypts_and_verifies_with_a_frozen_clock()
    {
        var vector = Vector("6.nesting_signatures_and_encryption.json");
        var sign = vector.GetProperty("sign").GetProperty("input");
        var signingKey = KeySetParser.Parse(sign.GetProperty("key").GetRawText());
        var decryption = PrivateRsa(vector.GetProperty("encrypt").GetProperty("input").GetProperty("key"));
        var claims = JsonDocument.Parse(sign.GetProperty("payload").GetString()!).RootElement;
        var frozen = new ManualTime(DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64() - 60));
        var validator = new TokenValidator(frozen);
        var token = vector.GetProperty("encrypt").GetProperty("output").GetProperty("compact").GetString()!;

        var signatureOnly = await validator.ValidateAsync(
            token, new TokenValidationSettings { SignatureOnly = true, DecryptionKey = decryption }, new StaticKeySource(signingKey), CancellationToken.None);
        var full = await validator.ValidateAsync(
            token, new TokenValidationSettings { Issuer = "hobbiton.example", Audience = "parley", DecryptionKey = decryption }, new StaticKeySource(signingKey), CancellationToken.None);

        Assert.True(signatureOnly.IsValid, signatureOnly.Description);
        Assert.Equal("hobbiton.example", signatureOnly.Claims!.Value.GetProperty("iss").GetString());
        Assert.Equal("aud", full.FailedCheck); // the cookbook's token names no audience: a real deployment must refuse it
    }

    [Theory]
    [InlineData("jws/4_5.signature_with_detached_content.json", "signature")]
    [InlineData("rfc7797/hmac-sha2_b64_false.json", "crit")]
    public async Task Detached_and_unencoded_payload_examples_are_refused(string path, string check)
    {
        var vector = Vector(path);
        var key = KeySetParser.Parse(vector.GetProperty("input").GetProperty("key").GetRawText(), allowSymmetric: true);
        var result = await new TokenValidator(TimeProvider.System).ValidateAsync(
            Compact(vector), new TokenValidationSettings { SignatureOnly = true, AllowedAlgorithms = ["HS256"] }, new StaticKeySource(key), CancellationToken.None);

        Assert.Equal((OAuthErrors.InvalidToken, check), (result.Error, result.FailedCheck));
    }
}
