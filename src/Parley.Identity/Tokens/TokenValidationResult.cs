using System.Text.Json;

namespace Parley.Identity.Tokens;

/// <summary>OAuth error codes used in refusals (RFC 6749 §5.2, RFC 6750 §3.1).</summary>
public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidToken = "invalid_token";
    public const string InvalidGrant = "invalid_grant";
    public const string InvalidClient = "invalid_client";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string InvalidScope = "invalid_scope";
    public const string ServerError = "server_error";
    public const string TemporarilyUnavailable = "temporarily_unavailable";

    /// <summary>The login is too weak or too old for what it was asked for (RFC 9470, OAuth 2.0 Step Up Authentication Challenge).</summary>
    public const string InsufficientUserAuthentication = "insufficient_user_authentication";
}

/// <summary>One check made on a token, for the token tester and the CLI.</summary>
public sealed record TokenCheck(string Name, bool Ok, string Detail);

/// <summary>
/// The verdict on a token: valid with the identity it proves, or refused with an OAuth error code,
/// the name of the failed check and a description a brand's developer can act on.
/// </summary>
public sealed record TokenValidationResult
{
    public bool IsValid => Error is null;

    public ConsumerIdentity? Identity { get; init; }

    public string? Error { get; init; }

    public string? FailedCheck { get; init; }

    public string? Description { get; init; }

    public IReadOnlyList<TokenCheck> Checks { get; init; } = [];

    /// <summary>The (inner) JWS header, when it could be read.</summary>
    public JsonElement? Header { get; init; }

    /// <summary>The payload, when the signature verified (never shown unverified).</summary>
    public JsonElement? Claims { get; init; }

    /// <summary>
    /// With <see cref="TokenValidationSettings.SignatureOnly"/>: the verified payload's bytes
    /// whatever they are (JWS signs any octets, RFC 7515 §3); <see cref="Claims"/> is set too when
    /// they are a JSON object.
    /// </summary>
    public ReadOnlyMemory<byte>? Payload { get; init; }
}

/// <summary>
/// Who a valid token proves the visitor is, and how: <see cref="Acr"/> (the assurance level),
/// <see cref="Amr"/> (the methods) and <see cref="AuthTime"/> (when the visitor last actually
/// authenticated), when the token says.
/// </summary>
public sealed record ConsumerIdentity(
    string Issuer,
    string Subject,
    IReadOnlyDictionary<string, string> VerifiedClaims,
    IReadOnlyDictionary<string, string> ContextVariables,
    string? Acr,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? IssuedAt,
    DateTimeOffset? AuthTime = null,
    IReadOnlyList<string>? Amr = null);
