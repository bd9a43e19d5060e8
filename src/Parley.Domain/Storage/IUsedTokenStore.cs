namespace Parley.Storage;

/// <summary>
/// Ids of tokens that may count once (a back-channel logout token's <c>jti</c>), shared by the
/// nodes, kept until the token could no longer be valid anyway.
/// </summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface IUsedTokenStore
{
    /// <summary>Records the id as used; false when it was used before (a replay). Atomic across nodes.</summary>
    Task<bool> TryUseTokenIdAsync(string idHash, DateTimeOffset keepUntil, CancellationToken cancellationToken);

    /// <summary>Whether the id was used already.</summary>
    Task<bool> IsTokenIdUsedAsync(string idHash, CancellationToken cancellationToken);

    /// <summary>Forgets ids kept until before <paramref name="now"/>.</summary>
    Task<int> PurgeUsedTokenIdsAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
