using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace Parley.Operations;

/// <summary>
/// A file built into the server assembly (the widget, the workspace's pages and scripts), served
/// with a content-derived ETag so browsers revalidate it cheaply.
/// </summary>
public sealed class EmbeddedAsset
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    private EmbeddedAsset(byte[] content, string contentType)
    {
        Content = content;
        ContentType = contentType;
        ETag = $"\"{Convert.ToHexString(SHA256.HashData(content))[..16]}\"";
    }

    public byte[] Content { get; }

    public string ContentType { get; }

    public string ETag { get; }

    /// <summary>The assembly's resources whose names start with <paramref name="prefix"/>, by the rest of their name.</summary>
    public static Dictionary<string, EmbeddedAsset> Load(string prefix)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var assets = new Dictionary<string, EmbeddedAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var path = name[prefix.Length..];
            var type = ContentTypes.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            assets[path] = new EmbeddedAsset(copy.ToArray(), type.StartsWith("text/", StringComparison.Ordinal) ? type + "; charset=utf-8" : type);
        }

        return assets;
    }

    /// <summary>The content, or 304 when the browser already holds this version. The caller sets the caching headers.</summary>
    public IResult Result(HttpContext context)
    {
        context.Response.Headers.ETag = ETag;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Request.Headers.IfNoneMatch == ETag
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(Content, ContentType);
    }
}
