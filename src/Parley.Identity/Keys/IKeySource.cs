namespace Parley.Identity.Keys;

/// <summary>Where a brand's verification keys come from.</summary>
public interface IKeySource
{
    /// <summary>
    /// The current keys. When <paramref name="unknownKid"/> is given and not among them, the source
    /// may refetch once (rate-limited) before answering.
    /// </summary>
    /// <exception cref="KeySourceUnavailableException">No usable keys could be had (and none are cached).</exception>
    Task<KeySet> GetKeysAsync(string? unknownKid, CancellationToken cancellationToken);
}

/// <summary>The brand's key endpoint is down, slow or returns garbage, and no good keys are cached.</summary>
public sealed class KeySourceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Keys given up front (a file, a configured PEM).</summary>
public sealed class StaticKeySource(KeySet keys) : IKeySource
{
    private readonly Task<KeySet> _keys = Task.FromResult(keys);

    public Task<KeySet> GetKeysAsync(string? unknownKid, CancellationToken cancellationToken) => _keys;
}
