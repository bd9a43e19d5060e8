namespace Parley.Consumers;

/// <summary>
/// A website visitor. Anonymous consumers are issued by Parley and bound to one device (their
/// device sessions); authenticated consumers are identified by tenant + issuer + subject, so the
/// same consumer is found from every device where the visitor logs in.
/// </summary>
public sealed record Consumer(
    Guid Id,
    Guid TenantId,
    string? Issuer,
    string? Subject,
    DateTimeOffset CreatedAt)
{
    public bool IsAuthenticated => Issuer is not null;

    public static Consumer Anonymous(Guid tenantId, DateTimeOffset now) =>
        new(Guid.NewGuid(), tenantId, null, null, now);
}

/// <summary>
/// One device's link to a consumer. The device holds the opaque visitor token; Parley stores
/// only its SHA-256 hash. Deleting the session unlinks the device ("clear history").
/// </summary>
public sealed record ConsumerSession(
    string TokenHash,
    Guid ConsumerId,
    Guid TenantId,
    Guid DeploymentId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt);
