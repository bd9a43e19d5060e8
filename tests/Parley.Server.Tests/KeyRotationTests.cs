using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Parley.Server.Tests;

/// <summary>
/// Keys and secrets an admin rotates: Parley's own key pair for encrypted tokens (published as a
/// JWKS, the older key decrypting for an overlap) and the HMAC secret (two values during a
/// rotation); a key or secret stopped at once is refused at once.
/// </summary>
public sealed class KeyRotationTests(SharedServerFixture fixture) : IClassFixture<SharedServerFixture>
{
    private static readonly RSA Brand = RSA.Create(2048);
    private TestServer Server => fixture.Server;

    private static string Jwt(string sub)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub, exp = now + 600, iat = now });
    }

    private static string Hs256(string secret, string sub)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = TestTokens.B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var payload = TestTokens.B64(JsonSerializer.SerializeToUtf8Bytes(new { iss = TestTokens.Issuer, aud = "parley", sub, exp = now + 600, iat = now }));
        return header + "." + payload + "." + TestTokens.B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + payload)));
    }

    private async Task<(Guid DeploymentId, Guid SettingsId, string Admin)> BrandAsync()
    {
        var (deploymentId, _) = await Server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(Server, deploymentId, Brand);
        return (deploymentId, settings.Id, await Server.AdminTokenAsync(settings.TenantId));
    }

    private async Task<HttpStatusCode> SignInAsync(Guid deploymentId, string jwt) =>
        (await Server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt })).StatusCode;

    private async Task<JsonElement> PostAsync(string admin, string path, object? body = null)
    {
        var response = await Server.SendAsync(HttpMethod.Post, path, admin, body ?? new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<Dictionary<string, JsonElement>> JwksAsync(Guid settingsId) =>
        (await Server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/authentication-settings/{settingsId}/jwks.json"))
            .GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!);

    [Fact]
    public async Task Parley_publishes_its_own_encryption_key_and_a_rotation_keeps_the_old_one_decrypting_until_it_is_stopped()
    {
        var (deploymentId, settingsId, admin) = await BrandAsync();
        var keys = $"/api/v1/admin/authentication-settings/{settingsId}/decryption-keys";
        Assert.Equal(HttpStatusCode.NotFound, (await Server.Http.GetAsync($"/api/v1/authentication-settings/{settingsId}/jwks.json")).StatusCode);

        var first = await PostAsync(admin, keys);
        var firstKid = first.GetProperty("kid").GetString()!;
        Assert.Equal(JsonValueKind.Null, first.GetProperty("previousValidUntil").ValueKind);
        Assert.EndsWith($"/api/v1/authentication-settings/{settingsId}/jwks.json", first.GetProperty("jwksUrl").GetString(), StringComparison.Ordinal);
        var published = await JwksAsync(settingsId);
        var firstKey = Assert.Single(published).Value;
        // A 3072-bit modulus: 384 bytes, 512 base64url characters.
        Assert.Equal(("enc", "RSA-OAEP-256", 512), (firstKey.GetProperty("use").GetString(), firstKey.GetProperty("alg").GetString(),
            firstKey.GetProperty("n").GetString()!.Length));
        Assert.False(firstKey.TryGetProperty("d", out _));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, TestTokens.EncryptTo(firstKey, Jwt("enc-1"))));

        // A rotation: the new key is published first, and the old one still decrypts.
        var second = await PostAsync(admin, keys);
        Assert.True(second.GetProperty("previousValidUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(6));
        published = await JwksAsync(settingsId);
        Assert.Equal([second.GetProperty("kid").GetString()!, firstKid], published.Keys);
        var secondKey = published[second.GetProperty("kid").GetString()!];
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, TestTokens.EncryptTo(firstKey, Jwt("enc-2"))));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, TestTokens.EncryptTo(secondKey, Jwt("enc-3"))));
        var view = await Server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/admin/authentication-settings/{settingsId}")
        {
            Headers = { Authorization = new("Bearer", admin) },
        });
        var listed = (await view.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("decryptionKeys").EnumerateArray().ToList();
        Assert.Equal([true, false], listed.Select(k => k.GetProperty("current").GetBoolean()));
        Assert.DoesNotContain("PRIVATE", await view.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A key that leaked is stopped at once; a rotation without overlap stops the old key at once.
        Assert.Equal(HttpStatusCode.NoContent, (await Server.SendAsync(HttpMethod.Delete, $"{keys}/{firstKid}", admin)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(deploymentId, TestTokens.EncryptTo(firstKey, Jwt("enc-4"))));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, TestTokens.EncryptTo(secondKey, Jwt("enc-5"))));
        var third = await PostAsync(admin, keys, new { overlapHours = 0 });
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(deploymentId, TestTokens.EncryptTo(secondKey, Jwt("enc-6"))));
        Assert.Equal([third.GetProperty("kid").GetString()!], (await JwksAsync(settingsId)).Keys);

        // Another tenant's admin reaches none of it.
        var (_, _, stranger) = await BrandAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await Server.SendAsync(HttpMethod.Post, keys, stranger, new { })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Server.SendAsync(HttpMethod.Post, keys, admin, new { overlapHours = 9999 })).StatusCode);
    }

    [Fact]
    public async Task A_generated_hmac_secret_is_shown_once_and_the_previous_one_works_during_the_overlap_only()
    {
        var (deploymentId, settingsId, admin) = await BrandAsync();
        var rotate = $"/api/v1/admin/authentication-settings/{settingsId}/hmac-secret";
        var first = (await PostAsync(admin, rotate)).GetProperty("secret").GetString()!;
        Assert.True(first.Length >= 43);
        var settings = (await Server.Store.GetAuthenticationSettingsAsync(settingsId, CancellationToken.None))!;
        await Server.Store.SaveAuthenticationSettingsAsync(settings with { AllowedAlgorithms = ["RS256", "HS256"] }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, Hs256(first, "hs-1")));

        var rotated = await PostAsync(admin, rotate);
        var second = rotated.GetProperty("secret").GetString()!;
        Assert.True(rotated.GetProperty("previousValidUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, Hs256(first, "hs-2")));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, Hs256(second, "hs-3")));

        var third = (await PostAsync(admin, rotate, new { overlapHours = 0 })).GetProperty("secret").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(deploymentId, Hs256(second, "hs-4")));
        Assert.Equal(HttpStatusCode.Unauthorized, await SignInAsync(deploymentId, Hs256(first, "hs-5")));
        Assert.Equal(HttpStatusCode.Created, await SignInAsync(deploymentId, Hs256(third, "hs-6")));
        var audit = await Server.Store.ListAuditEventsAsync(settings.TenantId, null, null, 50, CancellationToken.None);
        Assert.DoesNotContain(audit, e => (e.Detail ?? "").Contains(third, StringComparison.Ordinal));
    }
}
