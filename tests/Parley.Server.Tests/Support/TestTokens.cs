using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Parley.Authentication;

namespace Parley.Server.Tests;

/// <summary>Tokens a brand would mint, and the settings that accept them, for the server tests.</summary>
internal static class TestTokens
{
    public const string Issuer = "https://idp.brand.example";

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// A compact JWE (RSA-OAEP-256, A256GCM, cty JWT) of <paramref name="jws"/> to the public key
    /// <paramref name="jwk"/> (one entry of a JWKS), as a brand encrypts to Parley's published key.
    /// </summary>
    public static string EncryptTo(JsonElement jwk, string jws)
    {
        using var recipient = RSA.Create(new RSAParameters
        {
            Modulus = Base64UrlDecode(jwk.GetProperty("n").GetString()!), Exponent = Base64UrlDecode(jwk.GetProperty("e").GetString()!),
        });
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RSA-OAEP-256", enc = "A256GCM", cty = "JWT", kid = jwk.GetProperty("kid").GetString() }));
        var cek = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var plaintext = Encoding.ASCII.GetBytes(jws);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(cek, 16))
        {
            gcm.Encrypt(iv, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(header));
        }

        return string.Join('.', header, B64(recipient.Encrypt(cek, RSAEncryptionPadding.OaepSHA256)), B64(iv), B64(ciphertext), B64(tag));
    }

    private static byte[] Base64UrlDecode(string value) =>
        Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/').PadRight(value.Length + (4 - value.Length % 4) % 4, '='));

    /// <summary>An RS256 JWT over exactly these claims.</summary>
    public static string Rs256(RSA key, object claims)
    {
        var header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"));
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + B64(signature);
    }

    /// <summary>Implicit-flow settings trusting <paramref name="brand"/>'s public key, attached to the deployment.</summary>
    public static Task<AuthenticationSettings> AttachSettingsAsync(TestServer server, Guid deploymentId, RSA brand, int? sessionTtlMinutes = null, DateTimeOffset? now = null) =>
        AttachSettingsAsync(server.Store, deploymentId, brand, sessionTtlMinutes, now);

    /// <summary><see cref="AttachSettingsAsync(TestServer, Guid, RSA, int?, DateTimeOffset?)"/> on a store directly.</summary>
    public static async Task<AuthenticationSettings> AttachSettingsAsync(
        Parley.Storage.SqlParleyStore store, Guid deploymentId, RSA brand, int? sessionTtlMinutes = null, DateTimeOffset? now = null,
        AuthenticationFlow flow = AuthenticationFlow.Implicit)
    {
        var deployment = (await store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var at = now ?? DateTimeOffset.UtcNow;
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = deployment.TenantId, Name = "site", Issuer = Issuer, ClientId = "parley",
            KeysDocument = brand.ExportSubjectPublicKeyInfoPem(), SessionTtlMinutes = sessionTtlMinutes, CreatedAt = at, UpdatedAt = at, Flow = flow,
        };
        await store.SaveAuthenticationSettingsAsync(settings, CancellationToken.None);
        await store.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, CancellationToken.None);
        return settings;
    }

    /// <summary>
    /// Code-flow settings trusting <paramref name="provider"/> (client "parley", RS256, keys from its
    /// discovery document), attached to the deployment.
    /// </summary>
    public static async Task<AuthenticationSettings> AttachOidcProviderAsync(
        TestServer server, Guid deploymentId, Parley.Testing.OidcProvider provider, string clientSecret, DateTimeOffset now)
    {
        var deployment = (await server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!;
        var resolver = server.Services.GetRequiredService<AuthenticationSettingsResolver>();
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = deployment.TenantId, Name = "oidc-provider", Flow = AuthenticationFlow.Code,
            Issuer = provider.Issuer.ToString().TrimEnd('/'), ClientId = "parley", DiscoveryUrl = provider.DiscoveryUrl.ToString(),
            ProtectedClientSecret = resolver.Protect(clientSecret), AllowedAlgorithms = ["RS256"], CreatedAt = now, UpdatedAt = now,
        };
        await server.Store.SaveAuthenticationSettingsAsync(settings, CancellationToken.None);
        await server.Store.SetDeploymentAuthenticationSettingsAsync(deploymentId, settings.Id, CancellationToken.None);
        return settings;
    }
}
