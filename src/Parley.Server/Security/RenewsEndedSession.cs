namespace Parley.Security;

/// <summary>
/// Endpoint metadata: this consumer route renews (or logs out) a device's ended login, so a visitor
/// token whose session ended less than <c>Parley:LoginRenewalWindow</c> ago is accepted on it, as
/// the caller it was. Every other route, and an older token, gets <c>authentication_expired</c>.
/// </summary>
public sealed class RenewsEndedSession;
