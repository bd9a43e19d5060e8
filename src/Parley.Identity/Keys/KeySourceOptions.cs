using System.Net;

namespace Parley.Identity.Keys;

/// <summary>How Parley fetches and caches a brand's keys and discovery document.</summary>
public sealed record KeySourceOptions
{
    /// <summary>Keys are refetched after this long.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>At most one refetch per this interval for unknown kids or after a failure (a flood of random kids cannot hammer the brand).</summary>
    public TimeSpan RefetchCooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the last good keys stay usable while the brand's endpoint is failing.</summary>
    public TimeSpan MaxStale { get; init; } = TimeSpan.FromHours(24);

    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public int MaxResponseBytes { get; init; } = 256 * 1024;

    /// <summary>Allow http:// on loopback addresses (Development and tests only). HTTPS is required otherwise.</summary>
    public bool AllowHttpLoopback { get; init; }

    /// <summary>Throws with a message saying what to change when <paramref name="url"/> may not be used.</summary>
    public void RequireAllowedUrl(Uri url, string what)
    {
        if (!url.IsAbsoluteUri)
        {
            throw new ArgumentException($"The {what} must be an absolute URL.");
        }

        if (url.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        var loopback = url.IsLoopback || (IPAddress.TryParse(url.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));
        if (url.Scheme == Uri.UriSchemeHttp && loopback && AllowHttpLoopback)
        {
            return;
        }

        throw new ArgumentException($"The {what} must use https (http is accepted only on loopback in Development): {url.GetLeftPart(UriPartial.Path)}");
    }
}
