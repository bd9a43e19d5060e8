namespace Parley.Identity.Keys;

/// <summary>
/// A brand's key URL (PEM, kid list, JWK or JWKS). Keys are cached for <see cref="KeySourceOptions.CacheTtl"/>;
/// an unknown kid triggers at most one refetch per <see cref="KeySourceOptions.RefetchCooldown"/>, shared by
/// all concurrent callers (single flight); while the endpoint fails, the last good keys are used for up to
/// <see cref="KeySourceOptions.MaxStale"/>.
/// </summary>
public sealed class HttpKeySource : IKeySource
{
    private readonly HttpClient _http;
    private readonly KeySourceOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private KeySet? _keys;
    private DateTimeOffset _fetchedAt;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private DateTimeOffset _lastKidRefetch = DateTimeOffset.MinValue;
    private Task<KeySet>? _inFlight;

    public HttpKeySource(Uri url, HttpClient http, KeySourceOptions options, TimeProvider time)
    {
        options.RequireAllowedUrl(url, "key URL");
        Url = url;
        _http = http;
        _options = options;
        _time = time;
    }

    public Uri Url { get; }

    /// <summary>How many times the URL has been fetched (for tests and diagnostics).</summary>
    public int FetchCount { get; private set; }

    public async Task<KeySet> GetKeysAsync(string? unknownKid, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        Task<KeySet> fetch;
        lock (_lock)
        {
            var fresh = _keys is not null && now - _fetchedAt < _options.CacheTtl;

            // The cooldown counts from the last refetch an unknown kid caused, not from the last
            // fetch: a key rotated moments after Parley fetched the set is still picked up at once
            // (OpenID RP test rp-key-rotation-op-sign-key), and a flood of made-up kids still costs
            // the brand one request per cooldown.
            if (fresh && (unknownKid is null || _keys!.ContainsKid(unknownKid) || now - _lastKidRefetch < _options.RefetchCooldown))
            {
                return _keys!;
            }

            if (_inFlight is null)
            {
                if (!fresh && _keys is not null && now - _lastAttempt < _options.RefetchCooldown && now - _fetchedAt < _options.MaxStale)
                {
                    return _keys; // The last attempt failed moments ago: do not retry on every request.
                }

                if (fresh)
                {
                    _lastKidRefetch = now;
                }

                _lastAttempt = now;
                FetchCount++;
                _inFlight = FetchAsync();
            }

            fetch = _inFlight;
        }

        try
        {
            return await fetch.WaitAsync(cancellationToken);
        }
        catch (KeySourceUnavailableException) when (Stale(now) is { } stale)
        {
            return stale;
        }
    }

    private KeySet? Stale(DateTimeOffset now)
    {
        lock (_lock)
        {
            return _keys is not null && now - _fetchedAt < _options.MaxStale ? _keys : null;
        }
    }

    private async Task<KeySet> FetchAsync()
    {
        await Task.Yield();
        try
        {
            var text = await KeyDocumentFetcher.FetchAsync(_http, Url, _options, CancellationToken.None);
            KeySet keys;
            try
            {
                keys = KeySetParser.Parse(text);
            }
            catch (KeySetException exception)
            {
                throw new KeySourceUnavailableException($"{KeyDocumentFetcher.Where(Url)}: {exception.Message}", exception);
            }

            lock (_lock)
            {
                _keys = keys;
                _fetchedAt = _time.GetUtcNow();
            }

            return keys;
        }
        finally
        {
            lock (_lock)
            {
                _inFlight = null;
            }
        }
    }
}
