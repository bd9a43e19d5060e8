using System.Net;

namespace Parley.Server.Tests;

/// <summary>A browser at the npm oidc-provider: follows its redirects (with its cookies) until it is sent back.</summary>
internal static class OidcBrowser
{
    /// <summary>Logs in as <paramref name="loginHint"/> and returns the URL the provider sends the visitor back to (one that starts with <paramref name="until"/>).</summary>
    public static async Task<Uri> AuthorizeAsync(string authorizationUrl, string loginHint, string until)
    {
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });
        var url = new Uri(authorizationUrl + "&login_hint=" + loginHint);
        for (var hop = 0; hop < 10; hop++)
        {
            using var response = await browser.GetAsync(url);
            var location = response.Headers.Location
                ?? throw new InvalidOperationException($"oidc-provider answered {(int)response.StatusCode} without a redirect: {await response.Content.ReadAsStringAsync()}");
            url = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (url.ToString().StartsWith(until, StringComparison.Ordinal))
            {
                return url;
            }
        }

        throw new InvalidOperationException("oidc-provider did not redirect back within 10 hops.");
    }
}
