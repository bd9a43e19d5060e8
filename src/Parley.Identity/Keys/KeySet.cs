namespace Parley.Identity.Keys;

/// <summary>The keys a brand publishes, as parsed from one response or file.</summary>
public sealed class KeySet
{
    public KeySet(IReadOnlyList<VerificationKey> keys, IReadOnlyList<string>? notes = null)
    {
        Keys = keys;
        Notes = notes ?? [];
    }

    public IReadOnlyList<VerificationKey> Keys { get; }

    /// <summary>Keys that were skipped and why (unknown kty, unusable, too small), for diagnostics.</summary>
    public IReadOnlyList<string> Notes { get; }

    public static readonly KeySet Empty = new([]);

    /// <summary>
    /// Keys that may verify a token with this alg and kid. With a kid, only keys with that exact
    /// kid; without one, every usable key (a brand with one key need not send a kid).
    /// </summary>
    public IReadOnlyList<VerificationKey> Candidates(string alg, string? kid, DateTimeOffset now)
    {
        // A loop, not LINQ: this runs on every login.
        List<VerificationKey>? candidates = null;
        foreach (var key in Keys)
        {
            if ((kid is null || string.Equals(key.Kid, kid, StringComparison.Ordinal)) && key.Supports(alg, now))
            {
                (candidates ??= new List<VerificationKey>(1)).Add(key);
            }
        }

        return candidates ?? (IReadOnlyList<VerificationKey>)[];
    }

    public bool ContainsKid(string kid) => Keys.Any(k => string.Equals(k.Kid, kid, StringComparison.Ordinal));
}
