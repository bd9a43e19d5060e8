namespace Parley.Consumers;

/// <summary>
/// What the brand's token proved about an authenticated consumer at their latest login: verified
/// claims (PII), context variables, and how long the authentication holds. Never mixed with the
/// page's unverified engagement attributes. <see cref="AuthenticatedAt"/> is when Parley accepted
/// the login; <see cref="AuthTime"/> when the visitor last actually authenticated at the brand
/// (the token's <c>auth_time</c>, when it had one), and <see cref="Amr"/> how (space-separated).
/// </summary>
public sealed record VerifiedIdentity(
    Guid ConsumerId,
    string Issuer,
    string Subject,
    IReadOnlyDictionary<string, string> VerifiedClaims,
    IReadOnlyDictionary<string, string> ContextVariables,
    string? Acr,
    DateTimeOffset AuthenticatedAt,
    DateTimeOffset AuthenticatedUntil,
    DateTimeOffset? AuthTime = null,
    string? Amr = null);
