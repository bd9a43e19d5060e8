namespace Parley.Consumers;

/// <summary>
/// What the brand's token proved about an authenticated consumer at their latest login: verified
/// claims (PII), context variables, and how long the authentication holds. Never mixed with the
/// page's unverified engagement attributes.
/// </summary>
public sealed record VerifiedIdentity(
    Guid ConsumerId,
    string Issuer,
    string Subject,
    IReadOnlyDictionary<string, string> VerifiedClaims,
    IReadOnlyDictionary<string, string> ContextVariables,
    string? Acr,
    DateTimeOffset AuthenticatedAt,
    DateTimeOffset AuthenticatedUntil);
