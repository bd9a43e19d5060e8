using System.Security.Cryptography;
using Parley.Identity.Jose;
using Parley.Identity.Keys;
using Parley.Identity.Tokens;

namespace Parley.Identity.Tests;

/// <summary>Tokens minted by the npm "jose" package: the valid ones validate, the tampered ones do not.</summary>
public sealed class JoseInteropTests
{
    [Fact]
    public async Task Tokens_minted_by_npm_jose_validate_and_tampered_ones_do_not()
    {
        var minted = await Interop.RunAsync("mint-jose.mjs");
        Base64Url.TryDecode(minted.GetProperty("hmacSecret").GetString()!, out var secret);
        var decryption = RSA.Create();
        decryption.ImportFromPem(minted.GetProperty("decryptionKeyPem").GetString()!);
        var settings = new TokenValidationSettings
        {
            Issuer = minted.GetProperty("issuer").GetString(),
            Audience = minted.GetProperty("audience").GetString(),
            AllowedAlgorithms = [.. JoseAlgorithms.DefaultAllowed, "HS256"],
            HmacSecret = secret,
            DecryptionKey = decryption,
        };
        var keys = new StaticKeySource(KeySetParser.Parse(minted.GetProperty("jwks").GetRawText()));
        var validator = new TokenValidator(TimeProvider.System);

        var names = new List<string>();
        foreach (var token in minted.GetProperty("tokens").EnumerateArray())
        {
            var name = token.GetProperty("name").GetString()!;
            var result = await validator.ValidateAsync(token.GetProperty("token").GetString(), settings, keys, CancellationToken.None);
            Assert.True(token.GetProperty("valid").GetBoolean() == result.IsValid, $"{name}: {result.Error} {result.FailedCheck} {result.Description}");
            if (result.IsValid)
            {
                Assert.Equal("interop-user", result.Identity!.Subject);
                Assert.Equal("Grace", result.Identity.VerifiedClaims["given_name"]);
                Assert.Equal("true", result.Identity.ContextVariables["msdyn_isvip"]);
            }

            names.Add(name);
        }

        Assert.Contains("RS256", names);
        Assert.Contains("PS256", names);
        Assert.Contains("ES256", names);
        Assert.Contains("ES384", names);
        Assert.Contains("HS256", names);
        Assert.Contains("RSA-OAEP-256+A256GCM(RS256)", names);
        Assert.Equal(13, names.Count);
    }
}
