using Parley.Consumers;

namespace Parley.Storage;

/// <summary>Consumers (visitors), their device sessions and what their latest login proved.</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IConsumerStore
{
    /// <summary>Stores a new consumer.</summary>
    Task CreateConsumerAsync(Consumer consumer, CancellationToken cancellationToken);

    /// <summary>A consumer by id, or null.</summary>
    Task<Consumer?> GetConsumerAsync(Guid consumerId, CancellationToken cancellationToken);

    /// <summary>
    /// The authenticated consumer for tenant + issuer + subject, created on first use. Concurrent
    /// callers get the same consumer.
    /// </summary>
    Task<Consumer> GetOrCreateAuthenticatedConsumerAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Signs a logged-in visitor in, in one transaction: the consumer for tenant + issuer + subject
    /// (created on first login), then what <paramref name="proved"/> builds for it — the verified
    /// identity and the device session. Nothing is stored unless all of it is.
    /// </summary>
    Task<Consumer> SignInAsync(
        Guid tenantId, string issuer, string subject, DateTimeOffset now, Func<Consumer, (VerifiedIdentity Identity, ConsumerSession Session)> proved,
        CancellationToken cancellationToken);

    /// <summary>Links a device to a consumer.</summary>
    Task CreateConsumerSessionAsync(ConsumerSession session, CancellationToken cancellationToken);

    /// <summary>The device session with this token hash, or null (expired ones included; callers check).</summary>
    Task<ConsumerSession?> GetConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Unlinks a device. Returns false when there was no such session.</summary>
    Task<bool> DeleteConsumerSessionAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>The authenticated consumer tenant + iss + sub, if they ever logged in.</summary>
    Task<Consumer?> FindAuthenticatedConsumerAsync(Guid tenantId, string issuer, string subject, CancellationToken cancellationToken);

    /// <summary>Deletes every device session of the consumer (logged out everywhere); returns how many there were.</summary>
    Task<int> DeleteConsumerSessionsAsync(Guid consumerId, CancellationToken cancellationToken);

    /// <summary>Records what a consumer's latest login proved (replacing the previous one).</summary>
    Task SaveVerifiedIdentityAsync(VerifiedIdentity identity, CancellationToken cancellationToken);

    /// <summary>What a consumer's latest login proved, or null for a consumer who never logged in.</summary>
    Task<VerifiedIdentity?> GetVerifiedIdentityAsync(Guid consumerId, CancellationToken cancellationToken);
}
