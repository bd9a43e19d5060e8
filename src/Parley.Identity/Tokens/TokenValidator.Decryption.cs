using System.Buffers.Binary;
using System.Text;
using System.Security.Cryptography;
using Parley.Identity.Jose;

namespace Parley.Identity.Tokens;

/// <summary>JWE content decryption: RSA-OAEP[-256] key unwrap, then AES-GCM or AES-CBC-HMAC (RFC 7516, RFC 7518 §5).</summary>
public sealed partial class TokenValidator
{
    /// <summary>Decrypts a compact JWE's content (no header policy checks); null when it does not decrypt. For tests and vectors.</summary>
    internal static byte[]? DecryptCompact(string jwe, RSA key)
    {
        var parts = jwe.Split('.');
        Base64Url.TryDecode(parts[0], out var headerBytes);
        var header = StrictJson.ParseObject(headerBytes, out _)!.Value;
        return DecryptContent(parts, header.String("alg")!, header.String("enc")!, key);
    }

    private static byte[]? DecryptContent(string[] parts, string alg, string enc, RSA key)
    {
        var encryptedKey = DecodeBytes(parts[1], "decrypt", "encrypted key");
        var iv = DecodeBytes(parts[2], "decrypt", "initialization vector");
        var ciphertext = DecodeBytes(parts[3], "decrypt", "ciphertext");
        var tag = DecodeBytes(parts[4], "decrypt", "authentication tag");
        var aad = Encoding.ASCII.GetBytes(parts[0]);
        byte[] cek;
        try
        {
            cek = key.Decrypt(encryptedKey, alg == "RSA-OAEP" ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256);
        }
        catch (CryptographicException)
        {
            return null;
        }

        try
        {
            switch (enc)
            {
                case "A128GCM" or "A256GCM":
                    if (cek.Length != (enc == "A128GCM" ? 16 : 32) || iv.Length != 12 || tag.Length != 16)
                    {
                        return null;
                    }

                    var plaintext = new byte[ciphertext.Length];
                    using (var gcm = new AesGcm(cek, 16))
                    {
                        gcm.Decrypt(iv, ciphertext, tag, plaintext, aad);
                    }

                    return plaintext;
                default:
                    var half = enc == "A128CBC-HS256" ? 16 : 32;
                    if (cek.Length != 2 * half || iv.Length != 16 || tag.Length != half)
                    {
                        return null;
                    }

                    var macInput = new byte[aad.Length + iv.Length + ciphertext.Length + 8];
                    aad.CopyTo(macInput, 0);
                    iv.CopyTo(macInput, aad.Length);
                    ciphertext.CopyTo(macInput, aad.Length + iv.Length);
                    BinaryPrimitives.WriteUInt64BigEndian(macInput.AsSpan(macInput.Length - 8), (ulong)aad.Length * 8);
                    var mac = half == 16 ? HMACSHA256.HashData(cek.AsSpan(0, half), macInput) : HMACSHA512.HashData(cek.AsSpan(0, half), macInput);
                    if (!CryptographicOperations.FixedTimeEquals(mac.AsSpan(0, half), tag))
                    {
                        return null;
                    }

                    using (var aes = Aes.Create())
                    {
                        aes.Key = cek[half..];
                        return aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7);
                    }
            }
        }
        catch (CryptographicException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
        }
    }
}
