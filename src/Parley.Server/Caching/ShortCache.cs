using System.Collections.Concurrent;

namespace Parley.Caching;

/// <summary>
/// Values read from the database at most once per <c>lifetime</c> per key and node. A change made
/// on this node is seen at once (<see cref="Forget"/>); one made on another node within the lifetime.
/// </summary>
public sealed class ShortCache<TKey, TValue>(TimeSpan lifetime, TimeProvider time)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Until)> _entries = new();

    public async Task<TValue> GetAsync(TKey key, Func<TKey, CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var cached) && cached.Until > now)
        {
            return cached.Value;
        }

        var value = await read(key, cancellationToken);
        _entries[key] = (value, now + lifetime);
        return value;
    }

    /// <summary>Drops a key after a change made on this node.</summary>
    public void Forget(TKey key) => _entries.TryRemove(key, out _);
}
