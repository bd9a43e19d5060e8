using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Parley.Storage;

/// <summary>
/// Encryption at rest with ASP.NET Core Data Protection (AES-256-CBC + HMACSHA256 under keys in
/// <c>Parley:DataProtection:KeysPath</c>, shared by every node and rotated every 90 days; old keys
/// keep decrypting). A protected value is marked, so rows written before encryption was turned on
/// are still read; a value that merely looks marked but does not decrypt is returned as stored.
/// </summary>
public sealed class DataProtectionFieldProtector(IDataProtectionProvider provider) : IFieldProtector
{
    private const string Marker = "\u0001pe1:";
    private readonly IDataProtector _protector = provider.CreateProtector("Parley.Storage.AtRest.v1");

    public string Protect(string plaintext) => Marker + _protector.Protect(plaintext);

    public string Unprotect(string stored)
    {
        if (!stored.StartsWith(Marker, StringComparison.Ordinal))
        {
            return stored;
        }

        try
        {
            return _protector.Unprotect(stored[Marker.Length..]);
        }
        catch (CryptographicException)
        {
            return stored;
        }
    }
}
