using Parley.Authentication;

namespace Parley.Storage;

/// <summary>A tenant's authentication settings records.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IAuthenticationSettingsStore
{
    /// <summary>Stores or replaces an authentication settings record (keyed by its id).</summary>
    Task SaveAuthenticationSettingsAsync(AuthenticationSettings settings, CancellationToken cancellationToken);

    /// <summary>An authentication settings record by id, or null.</summary>
    Task<AuthenticationSettings?> GetAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken);

    /// <summary>A tenant's authentication settings records, by name.</summary>
    Task<IReadOnlyList<AuthenticationSettings>> ListAuthenticationSettingsAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>Deletes a record. Returns false when there was none, or when a deployment still uses it.</summary>
    Task<bool> DeleteAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken);
}
