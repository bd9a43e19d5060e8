using System.Security.Cryptography;
using System.Text;

namespace Parley.Security;

/// <summary>
/// Random bearer tokens (visitor and agent sessions). The holder keeps the token; Parley stores
/// only its SHA-256, so a database leak does not leak usable sessions.
/// </summary>
public static class OpaqueToken
{
    public const string VisitorPrefix = "pvt_";
    public const string AgentPrefix = "pat_";

    public static (string Token, string Hash) Create(string prefix)
    {
        var token = prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>True when the text has the shape of a token with that prefix (cheap pre-check before a lookup).</summary>
    public static bool HasShape(string? token, string prefix) =>
        token is { Length: > 40 and < 100 } && token.StartsWith(prefix, StringComparison.Ordinal);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
