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
    Guid? ConsumerId = null);
