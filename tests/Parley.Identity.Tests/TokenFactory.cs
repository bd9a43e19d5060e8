using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Identity.Jose;

namespace Parley.Identity.Tests;

/// <summary>Mints tokens for tests with the .NET base library: valid ones, and precisely broken ones.</summary>
internal static class TokenFactory
{
    public const string Issuer = "https://idp.brand.example";
    public const string Audience = "parley-client";

    public static readonly RSA Rsa = RSA.Create(2048);
    public static readonly RSA OtherRsa = RSA.Create(2048);
    public static readonly ECDsa P256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ECDsa P384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    public static readonly ECDsa P521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
    public static readonly RSA ParleyEncryptionKey = RSA.Create(2048);
    public static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    public static string B64(string text) => Base64Url.Encode(Encoding.UTF8.GetBytes(text));

    public static string Json(object value) => JsonSerializer.Serialize(value);

    public static Dictionary<string, object?> Claims(DateTimeOffset now, Action<Dictionary<string, object?>>? change = null)
    {
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = Issuer,
            ["sub"] = "customer-42",
            ["aud"] = Audience,
            ["exp"] = now.AddMinutes(10).ToUnixTimeSeconds(),
            ["iat"] = now.AddSeconds(-5).ToUnixTimeSeconds(),
            ["given_name"] = "Ada",
            ["email"] = "ada@example.com",
        };
        change?.Invoke(claims);
        return claims;
    }

    public static string Sign(string alg, object payload, string? kid = "k1", Dictionary<string, object?>? extraHeader = null, object? key = null) =>
        SignRaw(HeaderJson(alg, kid, extraHeader), payload is string s ? s : Json(payload), alg, key);

    public static string HeaderJson(string alg, string? kid, Dictionary<string, object?>? extra = null)
    {
        var header = new Dictionary<string, object?> { ["alg"] = alg, ["typ"] = "JWT" };
        if (kid is not null)
        {
            header["kid"] = kid;
        }

        foreach (var (name, value) in extra ?? [])
        {
            if (value is null)
            {
                header.Remove(name);
            }
            else
            {
                header[name] = value;
            }
        }

        return Json(header);
    }

    public static string SignRaw(string headerJson, string payloadJson, string alg, object? key = null)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        return input + "." + Base64Url.Encode(Signature(alg, Encoding.ASCII.GetBytes(input), key));
    }

    public static byte[] Signature(string alg, byte[] input, object? key = null)
    {
        var hash = JoseAlgorithms.Hash(alg);
        return alg[..2] switch
        {
            "RS" => ((RSA)(key ?? Rsa)).SignData(input, hash, RSASignaturePadding.Pkcs1),
            "PS" => ((RSA)(key ?? Rsa)).SignData(input, hash, RSASignaturePadding.Pss),
            "ES" => ((ECDsa)(key ?? alg switch { "ES256" => P256, "ES384" => P384, _ => P521 })).SignData(input, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            "HS" => HMAC(hash, (byte[])(key ?? Secret), input),
            _ => [],
        };
    }

    private static byte[] HMAC(HashAlgorithmName hash, byte[] key, byte[] input) =>
        hash == HashAlgorithmName.SHA256 ? HMACSHA256.HashData(key, input)
        : hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(key, input)
        : HMACSHA512.HashData(key, input);

    /// <summary>A compact JWE (RSA-OAEP[-256]) of <paramref name="plaintext"/> to <paramref name="recipient"/>.</summary>
    public static string Encrypt(string plaintext, string alg = "RSA-OAEP-256", string enc = "A256GCM", RSA? recipient = null, Dictionary<string, object?>? extraHeader = null)
    {
        var header = new Dictionary<string, object?> { ["alg"] = alg, ["enc"] = enc, ["cty"] = "JWT" };
        foreach (var (name, value) in extraHeader ?? [])
        {
            if (value is null)
            {
                header.Remove(name);
            }
            else
            {
                header[name] = value;
            }
        }

        var protectedB64 = B64(Json(header));
        var aad = Encoding.ASCII.GetBytes(protectedB64);
        var cekLength = enc switch { "A128GCM" => 16, "A256GCM" => 32, "A128CBC-HS256" => 32, _ => 64 };
        var cek = RandomNumberGenerator.GetBytes(cekLength);
        var encryptedKey = (recipient ?? ParleyEncryptionKey).Encrypt(cek, alg == "RSA-OAEP" ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256);
        var data = Encoding.UTF8.GetBytes(plaintext);
        byte[] iv, ciphertext, tag;
        if (enc.EndsWith("GCM", StringComparison.Ordinal))
        {
            iv = RandomNumberGenerator.GetBytes(12);
            ciphertext = new byte[data.Length];
            tag = new byte[16];
            using var gcm = new AesGcm(cek, 16);
            gcm.Encrypt(iv, data, ciphertext, tag, aad);
        }
        else
        {
            var half = cekLength / 2;
            iv = RandomNumberGenerator.GetBytes(16);
            using var aes = Aes.Create();
            aes.Key = cek[half..];
            ciphertext = aes.EncryptCbc(data, iv, PaddingMode.PKCS7);
            var macInput = aad.Concat(iv).Concat(ciphertext).Concat(new byte[8]).ToArray();
            BinaryPrimitives.WriteUInt64BigEndian(macInput.AsSpan(macInput.Length - 8), (ulong)aad.Length * 8);
            tag = (half == 16 ? HMACSHA256.HashData(cek[..half], macInput) : HMACSHA512.HashData(cek[..half], macInput))[..half];
        }

        return string.Join('.', protectedB64, Base64Url.Encode(encryptedKey), Base64Url.Encode(iv), Base64Url.Encode(ciphertext), Base64Url.Encode(tag));
    }

    public static string Jwk(RSA rsa, string kid, string? alg = null, string? use = null)
    {
        var p = rsa.ExportParameters(false);
        var jwk = new Dictionary<string, object?> { ["kty"] = "RSA", ["kid"] = kid, ["n"] = Base64Url.Encode(p.Modulus), ["e"] = Base64Url.Encode(p.Exponent) };
        if (alg is not null) jwk["alg"] = alg;
        if (use is not null) jwk["use"] = use;
        return Json(jwk);
    }

    public static string Jwk(ECDsa ec, string kid)
    {
        var p = ec.ExportParameters(false);
        var crv = p.Curve.Oid.FriendlyName switch { "nistP256" or "ECDSA_P256" => "P-256", "nistP384" or "ECDSA_P384" => "P-384", _ => "P-521" };
        return Json(new { kty = "EC", kid, crv, x = Base64Url.Encode(p.Q.X), y = Base64Url.Encode(p.Q.Y) });
    }

    public static string Jwks(params string[] jwks) => "{\"keys\":[" + string.Join(',', jwks) + "]}";

    /// <summary>The brand's keys used by most tests: RSA k1, EC e256/e384/e521.</summary>
    public static string BrandJwks() => Jwks(Jwk(Rsa, "k1"), Jwk(P256, "e256"), Jwk(P384, "e384"), Jwk(P521, "e521"));
}

internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
