using Parley.Authentication;

namespace Parley.Storage;

/// <summary>Logins in progress (the one-time state of a login link or a code flow).</summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface ILoginStateStore
{
    /// <summary>Stores a login in progress.</summary>
    Task CreateLoginStateAsync(LoginState state, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a login state out of storage, atomically: of concurrent callers only one gets it, and
    /// it is never returned again. Null when unknown, already used, or expired at <paramref name="now"/>.
    /// </summary>
    Task<LoginState?> ConsumeLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>A login state without taking it (null when unknown or expired); for showing where it returns to.</summary>
    Task<LoginState?> FindLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes login states that expired before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeExpiredLoginStatesAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
