namespace Parley.Authentication;

/// <summary>
/// A single-use login in progress (OAuth <c>state</c>): which deployment (and, mid-chat, which
/// conversation, started by which consumer) it is for, the nonce the id_token must carry, and Parley's PKCE verifier. Only
/// the hash of the state value is stored.
/// </summary>
public sealed record LoginState(
    string StateHash,
    Guid TenantId,
    Guid DeploymentId,
    Guid? ConversationId,
    string Nonce,
    string CodeVerifier,
    string RedirectUri,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    Guid? ConsumerId = null,
    LoginAssurance? Assurance = null);

/// <summary>
/// What a login must prove beyond who the visitor is (a bot case's step-up): an <c>acr</c> among
/// <see cref="AcrValues"/> (space-separated, as in <c>acr_values</c>), and an <c>auth_time</c> at
/// most <see cref="MaxAgeSeconds"/> old (OpenID Connect Core §3.1.2.1).
/// </summary>
public sealed record LoginAssurance(string? AcrValues, int? MaxAgeSeconds)
{
    /// <summary>Why an identity falls short (<c>acr</c> or <c>auth_time</c>), or null when it is enough.</summary>
    public string? Shortfall(string? acr, DateTimeOffset? authTime, DateTimeOffset now, TimeSpan skew)
    {
        if (AcrValues is { } wanted && (acr is null || !wanted.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(acr, StringComparer.Ordinal)))
        {
            return "acr";
        }

        return MaxAgeSeconds is { } maxAge && (authTime is not { } at || now - at > TimeSpan.FromSeconds(maxAge) + skew) ? "auth_time" : null;
    }
}
