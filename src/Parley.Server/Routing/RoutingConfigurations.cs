using System.Collections.Concurrent;
using Parley.Storage;

namespace Parley.Routing;

/// <summary>
/// Tenants' routing configurations, compiled, read at most every few seconds per tenant and node.
/// An admin's change is seen at once on the node that saved it and within <see cref="CacheFor"/> elsewhere.
/// </summary>
public sealed class RoutingConfigurations(IParleyStore store, TimeProvider time)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<Guid, (CompiledRouting Routing, DateTimeOffset Until)> _cache = new();

    public async Task<CompiledRouting> GetAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(tenantId, out var cached) && cached.Until > now)
        {
            return cached.Routing;
        }

        var configuration = await store.GetRoutingConfigurationAsync(tenantId, cancellationToken) ?? RoutingConfiguration.Default;
        var routing = new CompiledRouting(configuration, configuration.Compile());
        _cache[tenantId] = (routing, now + CacheFor);
        return routing;
    }

    /// <summary>Drops a tenant's cached configuration after an admin changed it on this node.</summary>
    public void Forget(Guid tenantId) => _cache.TryRemove(tenantId, out _);
}

/// <summary>A configuration and its compiled rules.</summary>
public sealed record CompiledRouting(RoutingConfiguration Configuration, RoutingRules Rules);
