using Parley.Caching;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Tenants' routing configurations, compiled, read at most every few seconds per tenant and node.
/// An admin's change is seen at once on the node that saved it and within <see cref="CacheFor"/> elsewhere.
/// </summary>
public sealed class RoutingConfigurations(IRoutingStore routingStore, TimeProvider time)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly ShortCache<Guid, CompiledRouting> _cache = new(CacheFor, time);

    public Task<CompiledRouting> GetAsync(Guid tenantId, CancellationToken cancellationToken) =>
        _cache.GetAsync(tenantId, async (id, ct) =>
        {
            var configuration = await routingStore.GetRoutingConfigurationAsync(id, ct) ?? RoutingConfiguration.Default;
            return new CompiledRouting(configuration, configuration.Compile());
        }, cancellationToken);

    /// <summary>Drops a tenant's cached configuration after an admin changed it on this node.</summary>
    public void Forget(Guid tenantId) => _cache.Forget(tenantId);
}

/// <summary>A configuration and its compiled rules.</summary>
public sealed record CompiledRouting(RoutingConfiguration Configuration, RoutingRules Rules);
