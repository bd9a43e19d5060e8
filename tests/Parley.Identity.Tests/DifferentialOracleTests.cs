using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Parley.Identity.Jose;
using Parley.Identity.Tokens;
using Parley.Testing;
using static Parley.Identity.Tests.TokenFactory;

namespace Parley.Identity.Tests;

/// <summary>
/// A differential oracle for the identity core: the same tokens through Parley's
/// <see cref="TokenValidator"/> and through Microsoft.IdentityModel.JsonWebTokens 8.23.0, configured
/// as a careful engineer would (issuer, audience, the same keys and algorithms, signed tokens and
/// an expiry required, the same clock and skew). Every valid token both must accept, with the same
/// claims; every token Parley refuses that IdentityModel accepts must be one of the deliberate
/// differences docs/security.md lists, with its reason: the list is this test's, not a claim.
/// </summary>
public sealed class DifferentialOracleTests
{
    private static readonly DateTimeOffset Now = RefusalTests.Now;
    private static readonly JsonWebTokenHandler IdentityModel = new();

    /// <summary>What Parley refuses and IdentityModel (configured as above) accepts, and why Parley refuses it.</summary>
    public static readonly Dictionary<string, string> DeliberateDifferences = new()
    {
        ["over-size-limit"] = "a token over 16 KB is refused before it is parsed, so a flood of huge tokens costs nothing (IdentityModel's limit is 250 KB)",
        ["crit-unknown-extension"] = "a critical header parameter the recipient does not understand must be refused (RFC 7515 §4.1.11)",
        ["crit-b64-false"] = "the same: b64: false (RFC 7797) changes what the signature covers",
        ["typ-access-token"] = "a token typed for another use (at+jwt) is not a login token (RFC 8725 §3.11, explicit typing)",
        ["kid-path-traversal"] = "a kid that names no key is refused; IdentityModel then tries every key it has, so a token verifies with a key it does not name",
        ["kid-unknown"] = "the same: an unknown kid after one refetch is refused, never answered by trying all keys",
        ["kid-of-wrong-curve"] = "the same: the key a kid names must suit the algorithm (here another curve)",
        ["payload-duplicate-sub"] = "a payload with a member twice is refused (RFC 7519 §4): two JSON readers could see two different subjects",
        ["payload-duplicate-sub-escaped"] = "the same, with the duplicate spelled with an escape (s\\u0075b)",
        ["payload-duplicate-in-a-large-object"] = "the same, deep in a large object",
        ["payload-duplicate-nested"] = "the same, in a nested object",
        ["aud-several-without-azp"] = "with several audiences, azp must be Parley's client id (OpenID Connect Core 3.1.3.7)",
        ["aud-several-with-other-azp"] = "the same: azp names another client",
        ["exp-string"] = "a NumericDate is a JSON number (RFC 7519 §2); \"1764000000\" is not",
        ["iat-future"] = "a token issued in the future (beyond the clock skew) is refused",
        ["iat-missing-when-required"] = "an id_token must carry iat (OpenID Connect Core 3.1.3.7); the JWT handler has no such option",
        ["token-too-old"] = "max_age: a login older than allowed is refused; the JWT handler has no such option",
        ["sub-missing"] = "Parley identifies a visitor by iss and sub: a token without sub identifies nobody",
        ["sub-empty"] = "the same: an empty sub",
        ["sub-number"] = "the same: sub is a string (RFC 7519 §4.1.2)",
        ["nonce-wrong"] = "the nonce Parley sent must come back (OpenID Connect Core 3.1.3.7); the JWT handler has no nonce check (ASP.NET Core's OpenID Connect handler has one, elsewhere)",
        ["nonce-missing"] = "the same: no nonce at all",
        ["lwicontexts-not-json"] = "Dynamics' context variables (lwicontexts) must be a JSON object; a claim Parley cannot read refuses the token rather than being read in part",
        ["rsa-1024-key-ignored"] = "RSA keys under 2,048 bits are not used (NIST SP 800-131A); the key source skips them with a note",
        ["expired-key-in-kid-list"] = "a key whose expiry in the Dynamics [{kid, publicKey, expiry}] list has passed is not used; IdentityModel has no key expiry",
    };

    private static TokenValidationParameters Careful(TokenValidationSettings settings)
    {
        var keys = new JsonWebKeySet(BrandJwks()).GetSigningKeys().ToList();
        keys.Add(new JsonWebKey(Jwk(WeakKey, "weak")));
        keys.Add(new RsaSecurityKey(RSA.Create(Rsa.ExportParameters(false))) { KeyId = "expired" });
        if (settings.HmacSecret is { } secret)
        {
            keys.Add(new SymmetricSecurityKey(secret) { KeyId = "h1" });
        }

        return new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = settings.AllowedAlgorithms,
            TokenDecryptionKey = settings.DecryptionKey is { } decryption ? new RsaSecurityKey(decryption) : null,
            ClockSkew = settings.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            // IdentityModel's own lifetime rule, on the test's clock instead of the machine's.
            LifetimeValidator = (notBefore, expires, _, parameters) =>
                expires is { } exp && exp > Now.UtcDateTime - parameters.ClockSkew
                && (notBefore is not { } nbf || nbf <= Now.UtcDateTime + parameters.ClockSkew),
        };
    }

    /// <summary>The 1024-bit key RefusalTests' key source holds (Parley skips it; IdentityModel is given it too).</summary>
    private static RSA WeakKey => RefusalTests.WeakKey;

    public static TheoryData<string> Algorithms => [.. JoseAlgorithms.DefaultAllowed, .. JoseAlgorithms.Hmac];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task A_valid_token_of_each_algorithm_is_accepted_by_both_with_the_same_claims(string alg)
    {
        var kid = alg switch { "ES256" => "e256", "ES384" => "e384", "ES512" => "e521", _ when alg.StartsWith("HS", StringComparison.Ordinal) => "h1", _ => "k1" };
        // HS512 needs a 512-bit secret (RFC 7518 §3.2: at least the hash's size; Parley enforces it).
        var secret = RandomNumberGenerator.GetBytes(64);
        var token = Sign(alg, Claims(Now, c => c["lwicontexts"] = "{\"tier\":\"gold\"}"), kid: kid, key: alg.StartsWith("HS", StringComparison.Ordinal) ? secret : null);
        var settings = RefusalTests.Settings with { AllowedAlgorithms = [alg], HmacSecret = secret };

        var parley = await new TokenValidator(new ManualTime(Now)).ValidateAsync(token, settings, RefusalTests.Keys(), CancellationToken.None);
        var peer = await IdentityModel.ValidateTokenAsync(token, Careful(settings));

        Assert.True(parley.IsValid, $"Parley refused {alg}: {parley.Description}");
        Assert.True(peer.IsValid, $"IdentityModel refused {alg}: {peer.Exception?.Message}");
        var jwt = (JsonWebToken)peer.SecurityToken;
        Assert.Equal((jwt.Issuer, jwt.Subject), (parley.Identity!.Issuer, parley.Identity.Subject));
        Assert.Equal(jwt.ValidTo, parley.Identity.ExpiresAt.UtcDateTime);
        foreach (var (name, value) in parley.Identity.VerifiedClaims)
        {
            Assert.Equal(jwt.GetClaim(name).Value, value);
        }
    }

    public static TheoryData<string> Attacks => RefusalTests.Ids;

    [Fact]
    public async Task Every_token_parley_refuses_and_identity_model_accepts_is_a_documented_deliberate_difference()
    {
        var acceptedByPeer = new List<string>();
        foreach (var (id, @case) in RefusalTests.Cases)
        {
            var settings = @case.Settings?.Invoke(RefusalTests.Settings) ?? RefusalTests.Settings;
            var token = @case.Token();
            var parley = await new TokenValidator(new ManualTime(Now)).ValidateAsync(token, settings, RefusalTests.Keys(), CancellationToken.None);
            Assert.False(parley.IsValid, $"{id} was accepted by Parley");
            if ((await IdentityModel.ValidateTokenAsync(token, Careful(settings))).IsValid)
            {
                acceptedByPeer.Add(id);
            }
        }

        Assert.True(DeliberateDifferences.Keys.Order(StringComparer.Ordinal).SequenceEqual(acceptedByPeer.Order(StringComparer.Ordinal)),
            "IdentityModel accepts what Parley refuses: " + string.Join(", ", acceptedByPeer) + "; documented: " + string.Join(", ", DeliberateDifferences.Keys));
        var documented = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "docs", "security.md"));
        Assert.All(DeliberateDifferences.Keys, id => Assert.Contains($"`{id}`", documented, StringComparison.Ordinal));
    }
}
