using System.Text;
using Parley.Identity.Jose;

namespace Parley.Identity.Keys;

/// <summary>What Parley uses from an OpenID Connect discovery document.</summary>
public sealed record ProviderMetadata(string Issuer, Uri JwksUri, Uri? AuthorizationEndpoint, Uri? TokenEndpoint);

/// <summary>
/// Keys found through OpenID Connect discovery (<c>/.well-known/openid-configuration</c>). The
/// document's issuer must equal the configured issuer exactly; its <c>jwks_uri</c> (HTTPS) is then
/// used as an <see cref="HttpKeySource"/>, re-read when the document changes. A kid that the
/// current key set does not have also re-reads the document (at most once per
/// <see cref="KeySourceOptions.RefetchCooldown"/>), so a provider that moved its key set to a new
/// <c>jwks_uri</c> is followed at once rather than after the cache TTL.
/// </summary>
public sealed class DiscoveryKeySource : IKeySource, IDisposable
{
    private readonly Uri _discoveryUrl;
    private readonly string _issuer;
    private readonly HttpClient _http;
    private readonly KeySourceOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (ProviderMetadata Metadata, HttpKeySource Keys, DateTimeOffset FetchedAt)? _current;
    private DateTimeOffset _lastKidReread = DateTimeOffset.MinValue;

    public DiscoveryKeySource(Uri discoveryUrl, string expectedIssuer, HttpClient http, KeySourceOptions options, TimeProvider time)
    {
        options.RequireAllowedUrl(discoveryUrl, "discovery URL");
        _discoveryUrl = discoveryUrl;
        _issuer = expectedIssuer;
        _http = http;
        _options = options;
        _time = time;
    }

    public void Dispose() => _refresh.Dispose();

    public async Task<ProviderMetadata> GetMetadataAsync(CancellationToken cancellationToken) =>
        (await CurrentAsync(reread: false, cancellationToken)).Metadata;

    public async Task<KeySet> GetKeysAsync(string? unknownKid, CancellationToken cancellationToken)
    {
        var current = await CurrentAsync(reread: false, cancellationToken);
        var keys = await current.Keys.GetKeysAsync(unknownKid, cancellationToken);
        if (unknownKid is null || keys.ContainsKid(unknownKid))
        {
            return keys;
        }

        var reread = await CurrentAsync(reread: true, cancellationToken);
        return ReferenceEquals(reread.Keys, current.Keys) ? keys : await reread.Keys.GetKeysAsync(unknownKid, cancellationToken);
    }

    /// <summary>The cached document, or a fresh one after the TTL, or (<paramref name="reread"/>, once per cooldown) at once.</summary>
    private async Task<(ProviderMetadata Metadata, HttpKeySource Keys, DateTimeOffset FetchedAt)> CurrentAsync(bool reread, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        bool Usable((ProviderMetadata, HttpKeySource, DateTimeOffset FetchedAt) held) =>
            now - held.FetchedAt < _options.CacheTtl && !(reread && now - _lastKidReread >= _options.RefetchCooldown);

        if (_current is { } current && Usable(current))
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && Usable(again))
            {
                return again;
            }

            if (reread)
            {
                _lastKidReread = now;
            }

            ProviderMetadata metadata;
            try
            {
                metadata = Parse(await KeyDocumentFetcher.FetchAsync(_http, _discoveryUrl, _options, cancellationToken));
            }
            catch (KeySourceUnavailableException) when (_current is { } stale && now - stale.FetchedAt < _options.MaxStale)
            {
                return stale;
            }

            var keys = _current is { } previous && previous.Keys.Url == metadata.JwksUri
                ? previous.Keys
                : new HttpKeySource(metadata.JwksUri, _http, _options, _time);
            _current = (metadata, keys, now);
            return _current.Value;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private ProviderMetadata Parse(string text)
    {
        var document = StrictJson.ParseObject(Encoding.UTF8.GetBytes(text), out var problem)
            ?? throw new KeySourceUnavailableException($"The discovery document {problem}.");
        var issuer = document.String("issuer");
        if (!string.Equals(issuer, _issuer, StringComparison.Ordinal))
        {
            throw new KeySourceUnavailableException($"The discovery document's issuer \"{issuer}\" is not the configured issuer \"{_issuer}\".");
        }

        var jwks = Url(document.String("jwks_uri"), "jwks_uri") ?? throw new KeySourceUnavailableException("The discovery document has no jwks_uri.");
        return new ProviderMetadata(issuer!, jwks, Url(document.String("authorization_endpoint"), "authorization_endpoint"), Url(document.String("token_endpoint"), "token_endpoint"));
    }

    private Uri? Url(string? value, string member)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            var url = new Uri(value, UriKind.Absolute);
            _options.RequireAllowedUrl(url, member);
            return url;
        }
        catch (Exception exception) when (exception is UriFormatException or ArgumentException)
        {
            throw new KeySourceUnavailableException($"The discovery document's {member} is not usable: {exception.Message}");
        }
    }
}
