using System.Security.Cryptography;

namespace Parley.Identity.Jose;

/// <summary>The algorithms Parley accepts, and nothing else (RFC 7518, RFC 8725 §3.1).</summary>
public static class JoseAlgorithms
{
    public static readonly IReadOnlyList<string> Rsa = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    public static readonly IReadOnlyList<string> Ecdsa = ["ES256", "ES384", "ES512"];
    public static readonly IReadOnlyList<string> Hmac = ["HS256", "HS384", "HS512"];

    /// <summary>Accepted by default: every asymmetric algorithm. HS* must be allowed explicitly, with a secret.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowed = [.. Rsa, .. Ecdsa];

    public static readonly IReadOnlyList<string> KeyEncryption = ["RSA-OAEP", "RSA-OAEP-256"];
    public static readonly IReadOnlyList<string> ContentEncryption = ["A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"];

    public static bool IsSignature(string alg) => Rsa.Contains(alg) || Ecdsa.Contains(alg) || Hmac.Contains(alg);

    public static HashAlgorithmName Hash(string alg) => alg[^3..] switch
    {
        "256" => HashAlgorithmName.SHA256,
        "384" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    /// <summary>The curve an ES* algorithm requires, and its field size in bytes.</summary>
    public static (string CurveOid, int FieldBytes) Curve(string alg) => alg switch
    {
        "ES256" => ("1.2.840.10045.3.1.7", 32),
        "ES384" => ("1.3.132.0.34", 48),
        _ => ("1.3.132.0.35", 66),
    };
}
