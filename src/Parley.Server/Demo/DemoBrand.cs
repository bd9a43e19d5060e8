using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Parley.Identity.Jose;

namespace Parley.Demo;

/// <summary>A demo customer of the demo brand. Their claims are what the brand's tokens say about them.</summary>
public sealed record DemoUser(string Username, string GivenName, string FamilyName, string Email, string Phone, string CustomerId, bool Vip);

/// <summary>
/// The demo brand's own website and identity provider, served by Parley's process under
/// <c>/demo-brand</c> so that one command shows every flow: public pages and an account page with
/// Parley's messenger, a login page with two users, <c>getAuthenticationToken(callback)</c>, a JWKS, an
/// OpenID Connect discovery document, and authorization and token endpoints (code flow with PKCE,
/// and id_token for the implicit flow). It stands in for a brand's real site and is off in production.
/// </summary>
public sealed class DemoBrand(IDataProtectionProvider protection, TimeProvider time, IOptions<DemoOptions> options)
{
    public const string BasePath = "/demo-brand";
    public const string ClientId = "parley-demo";
    public const string ClientSecret = "demo-client-secret";
    private const string Cookie = "demo_brand_user";

    public static readonly IReadOnlyList<DemoUser> Users =
    [
        new("ada", "Ada", "Lovelace", "ada@demo-brand.example", "+44 20 7946 0001", "C-1815", Vip: true),
        new("grace", "Grace", "Hopper", "grace@demo-brand.example", "+1 202 555 0106", "C-1906", Vip: false),
    ];

    private readonly RSA _key = RSA.Create(2048);
    private readonly string _kid = Base64Url.Encode(RandomNumberGenerator.GetBytes(9));
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new();
    private readonly IDataProtector _cookies = protection.CreateProtector("Parley.Demo.BrandCookie");

    private sealed record IssuedCode(DemoUser User, string RedirectUri, string? Challenge, string? Nonce, DateTimeOffset ExpiresAt);

    /// <summary>The brand's issuer: its base URL, e.g. <c>http://localhost:5080/demo-brand</c>.</summary>
    public string Issuer => options.Value.BrandUrl;

    /// <summary>How long the brand's tokens are valid (<c>Parley:Demo:TokenLifetime</c>).</summary>
    public TimeSpan TokenLifetime => options.Value.TokenLifetime;

    public JsonObject Jwks()
    {
        var p = _key.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = _kid,
                ["n"] = Base64Url.Encode(p.Modulus), ["e"] = Base64Url.Encode(p.Exponent),
            }),
        };
    }

    public JsonObject Discovery() => new()
    {
        ["issuer"] = Issuer,
        ["authorization_endpoint"] = Issuer + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["jwks_uri"] = Issuer + "/jwks",
        ["response_types_supported"] = new JsonArray("code", "id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
    };

    /// <summary>An RS256 token about <paramref name="user"/> for Parley (the page's token, or an id_token).</summary>
    public string Mint(DemoUser user, string? nonce, TimeSpan lifetime)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Issuer, ["aud"] = ClientId, ["sub"] = user.CustomerId, ["iat"] = now, ["exp"] = now + (long)lifetime.TotalSeconds,
            ["given_name"] = user.GivenName, ["family_name"] = user.FamilyName, ["email"] = user.Email, ["phone_number"] = user.Phone,
            ["preferred_username"] = user.Username,
            // Context variables travel as a JSON string (Dynamics' lwicontexts); the VIP flag is verified because the brand signed it.
            ["lwicontexts"] = new JsonObject { ["msdyn_isvip"] = user.Vip ? "true" : "false", ["customer_tier"] = user.Vip ? "gold" : "standard" }.ToJsonString(),
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        var header = Base64Url.Encode(Encoding.UTF8.GetBytes(new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = _kid }.ToJsonString()));
        var payload = Base64Url.Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + Base64Url.Encode(signature);
    }

    /// <summary>The user logged in on the brand's site (from its cookie), or null.</summary>
    public DemoUser? LoggedIn(HttpContext context)
    {
        if (context.Request.Cookies[Cookie] is not { } value)
        {
            return null;
        }

        try
        {
            var username = _cookies.Unprotect(value);
            return Users.FirstOrDefault(u => u.Username == username);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    public void LogIn(HttpContext context, DemoUser user) =>
        context.Response.Cookies.Append(Cookie, _cookies.Protect(user.Username), new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Lax, Path = BasePath, Secure = context.Request.IsHttps,
        });

    public static void LogOut(HttpContext context) => context.Response.Cookies.Delete(Cookie, new CookieOptions { Path = BasePath });

    public string IssueCode(DemoUser user, string redirectUri, string? challenge, string? nonce)
    {
        var code = Base64Url.Encode(RandomNumberGenerator.GetBytes(24));
        _codes[code] = new IssuedCode(user, redirectUri, challenge, nonce, time.GetUtcNow().AddMinutes(1));
        return code;
    }

    /// <summary>Redeems a code once: the redirect URI and PKCE verifier must match the authorization request.</summary>
    public (DemoUser User, string? Nonce)? Redeem(string code, string? redirectUri, string? verifier)
    {
        if (!_codes.TryRemove(code, out var issued) || issued.ExpiresAt <= time.GetUtcNow() || issued.RedirectUri != redirectUri)
        {
            return null;
        }

        if (issued.Challenge is not null
            && (verifier is null || Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != issued.Challenge))
        {
            return null;
        }

        return (issued.User, issued.Nonce);
    }
}
