namespace Parley.Storage;

/// <summary>
/// Failed sign-ins per account key (a hash of the email given, whether or not an account has it),
/// shared by the nodes: what the lockout of the agents' sign-in counts.
/// </summary>
/// <remarks>
/// Part of Parley's durable state, one role interface per aggregate; each database provider
/// implements them all and passes the one storage suite. Methods throw
/// <see cref="StorageUnavailableException"/> when the database cannot be reached or refuses
/// writes (callers treat that as retryable). A completed write is durable.
/// </remarks>
public interface ISignInThrottleStore
{
    /// <summary>Until when the key is locked, if it is.</summary>
    Task<DateTimeOffset?> GetSignInLockAsync(string keyHash, CancellationToken cancellationToken);

    /// <summary>
    /// Counts one more failure in a row for the key and locks it until <paramref name="lockFor"/>
    /// (given the new count) says; returns the new count. Atomic across nodes.
    /// </summary>
    Task<int> RecordSignInFailureAsync(string keyHash, DateTimeOffset now, Func<int, TimeSpan?> lockFor, CancellationToken cancellationToken);

    /// <summary>A successful sign-in: the count starts again.</summary>
    Task ClearSignInFailuresAsync(string keyHash, CancellationToken cancellationToken);

    /// <summary>Forgets keys with no failure since <paramref name="before"/> and no lock left.</summary>
    Task<int> PurgeSignInFailuresAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
