using Parley.Storage;
using Parley.Tenants;

namespace Parley.Security;

public static class AdminAccess
{
    /// <summary>The deployment when it is the calling admin's tenant's; otherwise not_found (another tenant's is indistinguishable from none).</summary>
    public static async Task<Deployment> OwnDeploymentAsync(this HttpContext context, IDeploymentStore deploymentStore, Guid deploymentId, CancellationToken cancellationToken) =>
        await deploymentStore.GetDeploymentAsync(deploymentId, cancellationToken) is { } deployment && deployment.TenantId == context.Caller<AgentCaller>().TenantId
            ? deployment
            : throw ParleyException.NotFound("The deployment");
}
