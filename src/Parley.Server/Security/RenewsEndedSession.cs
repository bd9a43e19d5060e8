namespace Parley.Security;

/// <summary>
/// Endpoint metadata: this consumer route renews a device's ended login (a fresh token or code for
/// the same conversation), so a visitor token whose session has ended is accepted on it, as the
/// caller it was. Every other route answers such a token <c>authentication_expired</c>.
/// </summary>
public sealed class RenewsEndedSession;
