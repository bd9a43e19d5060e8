using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Identity.Jose;

namespace Parley.Identity.Keys;

/// <summary>
/// Reads a brand's keys from what its key URL (or a file) returns, detecting the format: a PEM
/// public key; the Dynamics list <c>[{kid, publicKey (base64 PEM), expiry}]</c>; a JWKS
/// (<c>{"keys":[…]}</c>); or a single JWK. Unknown or unusable keys are skipped with a note;
/// a duplicate kid refuses the whole set.
/// </summary>
public static class KeySetParser
{
    public static KeySet Parse(string text, bool allowSymmetric = false)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            return new KeySet([FromPem(trimmed, kid: null, expiry: null)]);
        }

        var root = StrictJson.ParseObjectOrArray(Encoding.UTF8.GetBytes(trimmed), out var problem)
            ?? throw new KeySetException($"The key document {problem}; expected a PEM public key, a JWKS, a JWK or a kid/publicKey list.");
        if (root.ValueKind == JsonValueKind.Array)
        {
            return FromKidList(root);
        }

        if (root.TryGetProperty("keys", out var keys))
        {
            return keys.ValueKind == JsonValueKind.Array
                ? FromJwks(keys, allowSymmetric)
                : throw new KeySetException("The JWKS member \"keys\" is not an array.");
        }

        if (root.TryGetProperty("kty", out _))
        {
            var notes = new List<string>();
            var key = FromJwk(root, allowSymmetric, notes);
            return key is null ? throw new KeySetException("The JWK is not usable: " + string.Join("; ", notes)) : new KeySet([key]);
        }

        throw new KeySetException("The key document is neither a JWKS, a JWK, nor a kid/publicKey list.");
    }

    private static KeySet FromKidList(JsonElement list)
    {
        var keys = new List<VerificationKey>();
        foreach (var entry in list.EnumerateArray())
        {
            var kid = entry.ValueKind == JsonValueKind.Object ? entry.String("kid") : null;
            var encoded = entry.ValueKind == JsonValueKind.Object ? entry.String("publicKey") : null;
            if (kid is null || encoded is null)
            {
                throw new KeySetException("Each entry of a kid/publicKey list needs string \"kid\" and \"publicKey\".");
            }

            DateTimeOffset? expiry = entry.TryGetProperty("expiry", out var e) && e.TryGetInt64(out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
            string pem;
            try
            {
                pem = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new KeySetException($"The publicKey of kid \"{Clip(kid)}\" is not base64.");
            }

            keys.Add(FromPem(pem, kid, expiry));
        }

        return Unique(keys, []);
    }

    private static KeySet FromJwks(JsonElement array, bool allowSymmetric)
    {
        var keys = new List<VerificationKey>();
        var notes = new List<string>();
        foreach (var jwk in array.EnumerateArray())
        {
            if (jwk.ValueKind == JsonValueKind.Object && FromJwk(jwk, allowSymmetric, notes) is { } key)
            {
                keys.Add(key);
            }
        }

        return Unique(keys, notes);
    }

    private static KeySet Unique(List<VerificationKey> keys, List<string> notes)
    {
        var duplicate = keys.Where(k => k.Kid is not null).GroupBy(k => k.Kid, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is not null
            ? throw new KeySetException($"The key set has kid \"{Clip(duplicate.Key!)}\" more than once; kids must be unique.")
            : new KeySet(keys, notes);
    }

    /// <summary>One JWK, or null (with a note) when it is not for verifying signatures or cannot be used.</summary>
    private static VerificationKey? FromJwk(JsonElement jwk, bool allowSymmetric, List<string> notes)
    {
        var kid = jwk.String("kid");
        var label = kid is null ? "a key without kid" : $"key \"{Clip(kid)}\"";
        var use = jwk.String("use");
        if (use is not null && use != "sig")
        {
            notes.Add($"{label}: use is \"{Clip(use)}\", not sig");
            return null;
        }

        if (jwk.TryGetProperty("key_ops", out var ops)
            && (ops.ValueKind != JsonValueKind.Array || !ops.EnumerateArray().Any(o => o.ValueKind == JsonValueKind.String && o.GetString() == "verify")))
        {
            notes.Add($"{label}: key_ops does not include verify");
            return null;
        }

        var alg = jwk.String("alg");
        if (alg is not null && !JoseAlgorithms.IsSignature(alg))
        {
            notes.Add($"{label}: alg \"{Clip(alg)}\" is not a supported signature algorithm");
            return null;
        }

        try
        {
            switch (jwk.String("kty"))
            {
                case "RSA":
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters { Modulus = Bytes(jwk, "n"), Exponent = Bytes(jwk, "e") });
                    return VerificationKey.FromRsa(rsa, kid, alg);
                case "EC":
                    var curve = jwk.String("crv") switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        var other => throw new KeySetException($"curve \"{Clip(other ?? "")}\" is not supported"),
                    };
                    var ec = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = Bytes(jwk, "x"), Y = Bytes(jwk, "y") } });
                    return VerificationKey.FromEc(ec, kid, alg);
                case "oct" when allowSymmetric:
                    return VerificationKey.FromSecret(Bytes(jwk, "k"), kid, alg);
                case "oct":
                    notes.Add($"{label}: symmetric keys are not accepted from a key URL");
                    return null;
                case var kty:
                    notes.Add($"{label}: kty \"{Clip(kty ?? "")}\" is not supported");
                    return null;
            }
        }
        catch (Exception exception) when (exception is CryptographicException or KeySetException)
        {
            notes.Add($"{label}: {exception.Message}");
            return null;
        }
    }

    private static byte[] Bytes(JsonElement jwk, string member) =>
        jwk.String(member) is { } text && Base64Url.TryDecode(text, out var bytes) && bytes.Length > 0
            ? bytes
            : throw new KeySetException($"member \"{member}\" is missing or not canonical base64url");

    private static VerificationKey FromPem(string pem, string? kid, DateTimeOffset? expiry)
    {
        if (pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new KeySetException("The PEM holds a private key; give the public key.");
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return VerificationKey.FromRsa(rsa, kid, null, expiry);
        }
        catch (CryptographicException rsaError) when (!rsaError.Message.Contains("refused", StringComparison.Ordinal))
        {
            try
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(pem);
                return VerificationKey.FromEc(ec, kid, null, expiry);
            }
            catch (Exception exception) when (exception is CryptographicException or ArgumentException)
            {
                throw new KeySetException("The PEM is not an RSA or EC public key.");
            }
        }
        catch (CryptographicException tooSmall)
        {
            throw new KeySetException(tooSmall.Message);
        }
        catch (ArgumentException)
        {
            throw new KeySetException("The PEM could not be read.");
        }
    }

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

/// <summary>A key document that cannot be used.</summary>
public sealed class KeySetException(string message) : Exception(message);
