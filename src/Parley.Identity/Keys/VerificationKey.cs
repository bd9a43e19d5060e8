using System.Security.Cryptography;
using Parley.Identity.Jose;

namespace Parley.Identity.Keys;

/// <summary>
/// A brand's public key (RSA or EC), or a symmetric secret for HS*. <see cref="Kid"/> is only an
/// opaque lookup string. <see cref="Algorithm"/>, when the key source names one, restricts the key to it.
/// </summary>
public sealed class VerificationKey
{
    public const int MinRsaBits = 2048;

    private VerificationKey(string? kid, string kty, string? algorithm, DateTimeOffset? expiry)
    {
        Kid = kid;
        KeyType = kty;
        Algorithm = algorithm;
        Expiry = expiry;
    }

    public string? Kid { get; }

    /// <summary><c>RSA</c>, <c>EC</c> or <c>oct</c>.</summary>
    public string KeyType { get; }

    public string? Algorithm { get; }

    /// <summary>After this instant the key is not used (the Dynamics key list's <c>expiry</c>).</summary>
    public DateTimeOffset? Expiry { get; }

    internal RSA? Rsa { get; private init; }

    internal ECDsa? Ec { get; private init; }

    internal string? CurveOid { get; private init; }

    internal byte[]? Secret { get; private init; }

    public static VerificationKey FromRsa(RSA rsa, string? kid, string? algorithm = null, DateTimeOffset? expiry = null) =>
        rsa.KeySize < MinRsaBits
            ? throw new CryptographicException($"RSA keys under {MinRsaBits} bits are refused (this one has {rsa.KeySize}).")
            : new(kid, "RSA", algorithm, expiry) { Rsa = rsa };

    public static VerificationKey FromEc(ECDsa ec, string? kid, string? algorithm = null, DateTimeOffset? expiry = null)
    {
        var oid = ec.ExportParameters(false).Curve.Oid.Value
            ?? throw new CryptographicException("The EC key's curve is not a named curve.");
        return new(kid, "EC", algorithm, expiry) { Ec = ec, CurveOid = oid };
    }

    public static VerificationKey FromSecret(byte[] secret, string? kid, string? algorithm = null) =>
        new(kid, "oct", algorithm, null) { Secret = secret };

    /// <summary>True when this key can verify a signature made with <paramref name="alg"/>.</summary>
    public bool Supports(string alg, DateTimeOffset now)
    {
        if ((Algorithm is not null && Algorithm != alg) || (Expiry is { } expiry && expiry <= now))
        {
            return false;
        }

        return KeyType switch
        {
            "RSA" => JoseAlgorithms.Rsa.Contains(alg),
            "EC" => JoseAlgorithms.Ecdsa.Contains(alg) && JoseAlgorithms.Curve(alg).CurveOid == CurveOid,
            "oct" => JoseAlgorithms.Hmac.Contains(alg) && Secret!.Length * 8 >= int.Parse(alg[2..], System.Globalization.CultureInfo.InvariantCulture),
            _ => false,
        };
    }

    /// <summary>Verifies a JWS signature over the signing input. The caller has checked <see cref="Supports"/>.</summary>
    internal bool Verify(string alg, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        var hash = JoseAlgorithms.Hash(alg);
        switch (KeyType)
        {
            case "RSA":
                return signature.Length == Rsa!.KeySize / 8
                    && Rsa.VerifyData(signingInput, signature, hash, alg[0] == 'P' ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
            case "EC":
                // P1363 (r || s) of exactly twice the field size; DER or any other length is refused.
                return signature.Length == 2 * JoseAlgorithms.Curve(alg).FieldBytes
                    && Ec!.VerifyData(signingInput, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            case "oct":
                Span<byte> mac = stackalloc byte[64];
                var written = hash == HashAlgorithmName.SHA256 ? HMACSHA256.HashData(Secret, signingInput, mac)
                    : hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(Secret, signingInput, mac)
                    : HMACSHA512.HashData(Secret, signingInput, mac);
                return signature.Length == written && CryptographicOperations.FixedTimeEquals(mac[..written], signature);
            default:
                return false;
        }
    }
}
