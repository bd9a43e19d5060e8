using Parley.Bots;
using Parley.Tenants;

namespace Parley.Storage;

/// <summary>A tenant's deployments (where the messenger runs) and what is attached to them.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IDeploymentStore
{
    /// <summary>Stores a new deployment of an existing tenant.</summary>
    Task CreateDeploymentAsync(Deployment deployment, CancellationToken cancellationToken);

    /// <summary>A deployment by id, or null.</summary>
    Task<Deployment?> GetDeploymentAsync(Guid deploymentId, CancellationToken cancellationToken);

    /// <summary>A tenant's deployments, by name.</summary>
    Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Replaces the origins a deployment accepts browsers from.</summary>
    Task SetDeploymentOriginsAsync(Guid deploymentId, IReadOnlyList<string> origins, CancellationToken cancellationToken);

    /// <summary>Attaches authentication settings to a deployment (null detaches them).</summary>
    Task SetDeploymentAuthenticationSettingsAsync(Guid deploymentId, Guid? settingsId, CancellationToken cancellationToken);

    /// <summary>Replaces a deployment's messenger settings (null: the defaults).</summary>
    Task SetDeploymentMessengerAsync(Guid deploymentId, MessengerSettings? messenger, CancellationToken cancellationToken);

    /// <summary>Replaces a deployment's bot (null removes it).</summary>
    Task SetDeploymentBotAsync(Guid deploymentId, BotSettings? bot, CancellationToken cancellationToken);
}
