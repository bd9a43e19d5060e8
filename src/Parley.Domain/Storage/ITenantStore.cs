using Parley.Tenants;

namespace Parley.Storage;

/// <summary>Tenants (brands).</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface ITenantStore
{
    /// <summary>Stores a new tenant.</summary>
    Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken);

    /// <summary>A tenant by id, or null.</summary>
    Task<Tenant?> GetTenantAsync(Guid tenantId, CancellationToken cancellationToken);
}
