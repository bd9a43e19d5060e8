using System.Net.Http.Headers;
using System.Text;

namespace Parley.Identity.Keys;

/// <summary>GETs a small JSON or PEM document from a brand with a timeout and a size limit.</summary>
internal static class KeyDocumentFetcher
{
    /// <summary>The meter Parley's server listens to (<c>Parley</c>): key-source fetches, by outcome.</summary>
    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Parley");

    private static readonly System.Diagnostics.Metrics.Counter<long> Fetches = Meter.CreateCounter<long>(
        "parley.keys.fetches", "{fetch}", "Fetches of a brand's keys or discovery document, by outcome (ok or failed).");

    public static async Task<string> FetchAsync(HttpClient http, Uri url, KeySourceOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var document = await FetchOnceAsync(http, url, options, cancellationToken);
            Fetches.Add(1, new KeyValuePair<string, object?>("parley.outcome", "ok"));
            return document;
        }
        catch (KeySourceUnavailableException)
        {
            Fetches.Add(1, new KeyValuePair<string, object?>("parley.outcome", "failed"));
            throw;
        }
    }

    private static async Task<string> FetchOnceAsync(HttpClient http, Uri url, KeySourceOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.FetchTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new KeySourceUnavailableException($"{Where(url)} answered HTTP {(int)response.StatusCode}.");
            }

            return await ReadBoundedAsync(response.Content, options.MaxResponseBytes, timeout.Token)
                ?? throw new KeySourceUnavailableException($"{Where(url)} sent more than {options.MaxResponseBytes} bytes.");
        }
        catch (HttpRequestException exception) when (exception.InnerException is OutboundAddressRefusedException refused)
        {
            throw new KeySourceUnavailableException(refused.Message, refused);
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // One answer for every way a connection fails (refused, timed out, not TLS, no such host):
            // the admin learns what to fix without Parley mapping which ports are open where.
            throw new KeySourceUnavailableException(Unreachable(url, options), exception as HttpRequestException);
        }
        catch (DecoderFallbackException)
        {
            throw new KeySourceUnavailableException($"{Where(url)} sent something that is not UTF-8 text.");
        }
    }

    /// <summary>
    /// The body as strict UTF-8, reading at most <paramref name="maxBytes"/>; null when it is larger
    /// (checked on Content-Length first, then while reading, so a huge body is never buffered).
    /// </summary>
    /// <exception cref="DecoderFallbackException">The body is not UTF-8.</exception>
    public static async Task<string?> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
            if (total > maxBytes)
            {
                return null;
            }
        }

        return new UTF8Encoding(false, true).GetString(buffer, 0, total);
    }

    public static string Where(Uri url) => url.GetLeftPart(UriPartial.Path);

    /// <summary>What a brand needs to hear when a URL of theirs cannot be had, whatever the network said.</summary>
    public static string Unreachable(Uri url, KeySourceOptions options) =>
        $"{Where(url)} gave no HTTPS answer within {options.FetchTimeout.TotalSeconds:0.#} s: check that the host name is public and resolves, and that it serves HTTPS with a valid certificate.";
}
