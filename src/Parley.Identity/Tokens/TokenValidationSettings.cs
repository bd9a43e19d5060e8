using System.Security.Cryptography;
using Parley.Identity.Jose;

namespace Parley.Identity.Tokens;

/// <summary>What a token must satisfy. One instance per brand authentication settings record (or CLI run).</summary>
public sealed record TokenValidationSettings
{
    /// <summary>The exact <c>iss</c> required. Null only for signature-only checks (CLI <c>--no-claims</c>).</summary>
    public string? Issuer { get; init; }

    /// <summary>The value <c>aud</c> must contain (the brand's client id for Parley).</summary>
    public string? Audience { get; init; }

    /// <summary>Signature algorithms accepted. HS* also need <see cref="HmacSecret"/> (or an oct key from a trusted file).</summary>
    public IReadOnlyList<string> AllowedAlgorithms { get; init; } = JoseAlgorithms.DefaultAllowed;

    /// <summary>A shared secret configured for HS*; never derived from any public key material.</summary>
    public byte[]? HmacSecret { get; init; }

    /// <summary>The secret before a rotation, still accepted during the overlap (tried after <see cref="HmacSecret"/>).</summary>
    public byte[]? PreviousHmacSecret { get; init; }

    /// <summary>Parley's private key when brands may encrypt tokens to it (JWE, RSA-OAEP / RSA-OAEP-256).</summary>
    public RSA? DecryptionKey { get; init; }

    /// <summary>More private keys to decrypt with, tried after <see cref="DecryptionKey"/> (a rotation's older keys).</summary>
    public IReadOnlyList<RSA> DecryptionKeys { get; init; } = [];

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>When set, tokens issued (iat) longer ago than this are refused; iat is then required.</summary>
    public TimeSpan? MaxTokenAge { get; init; }

    /// <summary>Require <c>iat</c> (OpenID Connect id_tokens).</summary>
    public bool RequireIssuedAt { get; init; }

    /// <summary>The nonce Parley sent in the authorization request; the token must carry exactly it.</summary>
    public string? ExpectedNonce { get; init; }

    /// <summary>
    /// Without <see cref="ExpectedNonce"/>: a token whose nonce starts with this prefix answers a
    /// login the relying party started itself, so it is refused here; it counts only together with
    /// that login's state.
    /// </summary>
    public string? ReservedNoncePrefix { get; init; }

    /// <summary>Accepted <c>typ</c> header values when the header has one (compared case-insensitively).</summary>
    public IReadOnlyList<string> AcceptedTypes { get; init; } = ["JWT"];

    /// <summary>Largest token accepted, in characters.</summary>
    public int MaxTokenLength { get; init; } = 16 * 1024;

    /// <summary>
    /// Keep every passed check in <see cref="TokenValidationResult.Checks"/> (the token tester and
    /// the CLI show them). Off on the login path, where only a refusal's check matters: the
    /// failed check is always recorded.
    /// </summary>
    public bool RecordPassedChecks { get; init; } = true;

    /// <summary>Only check the signature (or decryption) and return the payload; no claim is checked.</summary>
    public bool SignatureOnly { get; init; }
}
