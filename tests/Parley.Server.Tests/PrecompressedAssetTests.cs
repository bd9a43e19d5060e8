using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The widget and the workspace are served precompressed (built at build time): the copy the
/// browser accepts, with Content-Encoding, Vary and an ETag of that copy, and the same bytes once
/// decoded; docs/widget.md quotes what a browser downloads, kept true here.
/// </summary>
public sealed partial class PrecompressedAssetTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private TestServer Server => fixture.Server;

    private async Task<HttpResponseMessage> GetAsync(string path, string? acceptEncoding, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await Server.Http.SendAsync(request);
    }

    private static byte[] Decode(byte[] body, string? encoding)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = encoding switch
        {
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            _ => input,
        };
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    [Theory]
    [InlineData("/widget.js")]
    [InlineData("/app/")]
    public async Task Each_browser_gets_the_copy_it_accepts_and_the_same_file_once_decoded(string path)
    {
        var plain = await GetAsync(path, null);
        var original = await plain.Content.ReadAsByteArrayAsync();
        Assert.Empty(plain.Content.Headers.ContentEncoding);

        var etags = new HashSet<string> { plain.Headers.ETag!.Tag };
        foreach (var (accept, expected) in new[] { ("br, gzip", "br"), ("gzip, deflate, br;q=0", "gzip"), ("identity", null) })
        {
            var response = await GetAsync(path, accept);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected is null ? [] : [expected], response.Content.Headers.ContentEncoding);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal(original, Decode(await response.Content.ReadAsByteArrayAsync(), expected));
            etags.Add(response.Headers.ETag!.Tag);

            var again = await GetAsync(path, accept, response.Headers.ETag.Tag);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        }

        Assert.Equal(3, etags.Count); // one per copy: a cache never answers one encoding with another's bytes
    }

    [Fact]
    public async Task The_widgets_download_size_in_the_docs_is_what_a_browser_gets()
    {
        var brotli = (await (await GetAsync("/widget.js", "br")).Content.ReadAsByteArrayAsync()).Length;
        var gzip = (await (await GetAsync("/widget.js", "gzip")).Content.ReadAsByteArrayAsync()).Length;
        var plain = (await (await GetAsync("/widget.js", null)).Content.ReadAsByteArrayAsync()).Length;
        Assert.True(brotli < gzip && gzip < plain / 2, $"brotli {brotli}, gzip {gzip}, plain {plain}");

        var docs = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "docs", "widget.md"));
        var quoted = Quoted().Match(docs);
        Assert.True(quoted.Success, "docs/widget.md does not say what a browser downloads");
        int Number(int group) => int.Parse(quoted.Groups[group].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        foreach (var (documented, measured, what) in new[] { (Number(1), brotli, "Brotli"), (Number(2), gzip, "gzip"), (Number(3), plain, "uncompressed") })
        {
            Assert.True(Math.Abs(documented - measured) <= measured / 10, $"docs/widget.md says {documented} bytes {what}; /widget.js sends {measured}");
        }
    }

    [GeneratedRegex(@"downloads ([\d,]+) bytes of it with\s+Brotli \(([\d,]+) with gzip; ([\d,]+) uncompressed\)")]
    private static partial Regex Quoted();
}
