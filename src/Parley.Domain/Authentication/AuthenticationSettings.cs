namespace Parley.Authentication;

public enum AuthenticationFlow
{
    /// <summary>The page hands Parley a JWT (Dynamics, LivePerson implicit, Pega).</summary>
    Implicit,

    /// <summary>The page hands Parley an authorization code that Parley exchanges (Genesys, LivePerson code flow).</summary>
    Code,
}

/// <summary>
/// A brand's authentication settings record ("chat authentication settings" in Dynamics, "OpenID
/// Connect Messenger Configuration" in Genesys), attached to deployments. Secret values are held
/// only in their protected (encrypted) form; the API never returns them.
/// </summary>
public sealed record AuthenticationSettings
{
    public required Guid Id { get; init; }

    public required Guid TenantId { get; init; }

    public required string Name { get; init; }

    public AuthenticationFlow Flow { get; init; } = AuthenticationFlow.Implicit;

    public required string Issuer { get; init; }

    /// <summary>The audience tokens must name: Parley's client id at the brand's identity provider.</summary>
    public required string ClientId { get; init; }

    /// <summary>Where the brand's keys are: a URL serving PEM, the kid list, a JWK or a JWKS.</summary>
    public string? KeysUrl { get; init; }

    /// <summary>An OpenID Connect discovery URL (instead of <see cref="KeysUrl"/>).</summary>
    public string? DiscoveryUrl { get; init; }

    /// <summary>Keys given inline (PEM, JWK, JWKS or the kid list) instead of a URL.</summary>
    public string? KeysDocument { get; init; }

    public string? AuthorizationEndpoint { get; init; }

    public string? TokenEndpoint { get; init; }

    /// <summary>The page's function that returns the token or code, e.g. <c>auth.getAuthenticationToken</c>.</summary>
    public string JsClientFunction { get; init; } = "getAuthenticationToken";

    public IReadOnlyList<string> AllowedAlgorithms { get; init; } = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    public int ClockSkewSeconds { get; init; } = 60;

    /// <summary>Authenticated-session lifetime in minutes; null means until the token expires.</summary>
    public int? SessionTtlMinutes { get; init; }

    /// <summary>Claim name → label agents see (e.g. <c>given_name</c> → "First name"). Empty maps every claim under its own name.</summary>
    public IReadOnlyDictionary<string, string> ClaimMapping { get; init; } = new Dictionary<string, string>();

    /// <summary>Protected client secret (code flow).</summary>
    public string? ProtectedClientSecret { get; init; }

    /// <summary>Protected HMAC secret for HS* tokens.</summary>
    public string? ProtectedHmacSecret { get; init; }

    /// <summary>Protected PEM of Parley's RSA private key for encrypted (JWE) tokens.</summary>
    public string? ProtectedDecryptionKey { get; init; }

    /// <summary>Protected authentication security key for custom login pages (Pega).</summary>
    public string? ProtectedSecurityKey { get; init; }

    /// <summary>
    /// Parley's own key pairs for encrypted tokens, newest first. The newest is the one brands
    /// encrypt to (published in the settings' JWKS); an older one still decrypts until its
    /// <see cref="ParleyKeyPair.RetiresAt"/>, so a rotation breaks no token already on its way.
    /// </summary>
    public IReadOnlyList<ParleyKeyPair> DecryptionKeys { get; init; } = [];

    /// <summary>The HMAC secret before the last rotation, accepted until <see cref="PreviousHmacSecretUntil"/>.</summary>
    public string? ProtectedPreviousHmacSecret { get; init; }

    public DateTimeOffset? PreviousHmacSecretUntil { get; init; }

    /// <summary>The security key before the last rotation, accepted until <see cref="PreviousSecurityKeyUntil"/>.</summary>
    public string? ProtectedPreviousSecurityKey { get; init; }

    public DateTimeOffset? PreviousSecurityKeyUntil { get; init; }

    /// <summary>How long a login link (its state) lasts, in minutes (Pega's "Authentication token TTL"); null: the server's default.</summary>
    public int? LoginLinkLifetimeMinutes { get; init; }

    /// <summary>The HMAC secret before the last rotation while its overlap lasts, else null.</summary>
    public string? LivePreviousHmacSecret(DateTimeOffset now) => PreviousHmacSecretUntil > now ? ProtectedPreviousHmacSecret : null;

    /// <summary>The security key before the last rotation while its overlap lasts, else null.</summary>
    public string? LivePreviousSecurityKey(DateTimeOffset now) => PreviousSecurityKeyUntil > now ? ProtectedPreviousSecurityKey : null;

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// An RSA key pair Parley generated for a settings record: the brand encrypts tokens to its public
/// half (RSA-OAEP-256), published by <see cref="Kid"/>; the private half is stored protected.
/// </summary>
public sealed record ParleyKeyPair(string Kid, string ProtectedPrivateKey, DateTimeOffset CreatedAt, DateTimeOffset? RetiresAt = null)
{
    /// <summary>Whether the key still decrypts at <paramref name="now"/>.</summary>
    public bool Live(DateTimeOffset now) => RetiresAt is not { } end || end > now;
}
