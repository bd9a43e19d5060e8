using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Parley.Operations;

/// <summary>
/// A file built into the server assembly (the widget, the workspace's pages and scripts), served
/// with a content-derived ETag so browsers revalidate it cheaply. The build also embeds Brotli and
/// gzip copies (<c>name.br</c>, <c>name.gz</c>, compressed at the strongest setting once, at build
/// time); a browser gets the smallest one it accepts, with <c>Content-Encoding</c> and
/// <c>Vary: Accept-Encoding</c>, and an ETag of that copy.
/// </summary>
public sealed class EmbeddedAsset
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>The encodings Parley embeds, in the order it prefers them, with the resource suffix of each.</summary>
    private static readonly (string Encoding, string Suffix)[] Encodings = [("br", ".br"), ("gzip", ".gz")];

    private readonly Dictionary<string, Variant> _encoded = new(StringComparer.Ordinal);

    private sealed record Variant(byte[] Content, string ETag);

    private EmbeddedAsset(byte[] content, string contentType)
    {
        Content = content;
        ContentType = contentType;
        ETag = ETagOf(content);
    }

    public byte[] Content { get; }

    public string ContentType { get; }

    public string ETag { get; }

    /// <summary>The embedded copy's size for an encoding (<c>br</c>, <c>gzip</c>), if there is one.</summary>
    public int? EncodedLength(string encoding) => _encoded.TryGetValue(encoding, out var variant) ? variant.Content.Length : null;

    private static string ETagOf(byte[] content) => $"\"{Convert.ToHexString(SHA256.HashData(content))[..16]}\"";

    /// <summary>The assembly's resources whose names start with <paramref name="prefix"/>, by the rest of their name.</summary>
    public static Dictionary<string, EmbeddedAsset> Load(string prefix)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var names = assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var assets = new Dictionary<string, EmbeddedAsset>(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !Encodings.Any(e => n.EndsWith(e.Suffix, StringComparison.Ordinal) && names.Contains(n[..^e.Suffix.Length]))))
        {
            var path = name[prefix.Length..];
            var type = ContentTypes.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            var asset = new EmbeddedAsset(Read(assembly, name), type.StartsWith("text/", StringComparison.Ordinal) ? type + "; charset=utf-8" : type);
            foreach (var (encoding, suffix) in Encodings.Where(e => names.Contains(name + e.Suffix)))
            {
                var encoded = Read(assembly, name + suffix);
                // The ETag names this copy: a cache must not answer a gzip request with the Brotli bytes.
                asset._encoded[encoding] = new Variant(encoded, $"{asset.ETag[..^1]}-{encoding}\"");
            }

            assets[path] = asset;
        }

        return assets;
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// The copy the browser accepts (Brotli, else gzip, else the file), or 304 when the browser
    /// already holds that version. The caller sets the caching headers.
    /// </summary>
    public IResult Result(HttpContext context)
    {
        var (encoding, content, etag) = Choose(context.Request.Headers.AcceptEncoding);
        if (_encoded.Count > 0)
        {
            context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
        }

        context.Response.Headers.ETag = etag;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        if (encoding is not null)
        {
            context.Response.Headers.ContentEncoding = encoding;
        }

        return Results.Bytes(content, ContentType);
    }

    private (string? Encoding, byte[] Content, string ETag) Choose(Microsoft.Extensions.Primitives.StringValues acceptEncoding)
    {
        if (_encoded.Count > 0 && StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var accepted))
        {
            foreach (var (encoding, _) in Encodings)
            {
                if (_encoded.TryGetValue(encoding, out var variant)
                    && accepted.Any(a => a.Value.Equals(encoding, StringComparison.OrdinalIgnoreCase) && (a.Quality ?? 1) > 0))
                {
                    return (encoding, variant.Content, variant.ETag);
                }
            }
        }

        return (null, Content, ETag);
    }
}
