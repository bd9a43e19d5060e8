using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// <c>Parley:Storage:EncryptAtRest</c>: message bodies and verified claims are not in the database
/// files in the clear, and read back as written; without it they are (which shows the check can see them).
/// </summary>
public sealed class EncryptionAtRestTests
{
    private static readonly RSA Brand = RSA.Create(2048);

    /// <summary>A logged-in visitor writes a message; returns what the API gives back and the database files' bytes.</summary>
    private static async Task<(string Text, string Email, byte[] Files)> RunAsync(bool encrypt, string marker)
    {
        await using var server = await TestServer.StartAsync($"--Parley:Storage:EncryptAtRest={encrypt}");
        var (deploymentId, _) = await server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(server, deploymentId, Brand);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "c-" + marker, exp = now + 600, iat = now, email = $"{marker}@mail.example" });
        var session = await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt })).Content.ReadFromJsonAsync<JsonElement>();
        var token = session.GetProperty("visitorToken").GetString()!;
        Guid conversationId;
        await using (var visitor = await server.ConsumerAsync(token, deploymentId))
        {
            await visitor.SendAsync(new { type = "conversation.start" });
            conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "m-1", text = $"my card ends {marker}" });
            await visitor.ExpectAsync("message.ack");
        }

        var history = await (await server.SendAsync(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}/messages", token))
            .Content.ReadFromJsonAsync<JsonElement>();
        var text = history.GetProperty("items").EnumerateArray().Single(m => m.GetProperty("senderRole").GetString() == "consumer").GetProperty("text").GetString()!;
        var identity = await server.Store.GetVerifiedIdentityAsync(session.GetProperty("consumerId").GetGuid(), CancellationToken.None);
        SqliteConnection.ClearAllPools();
        var files = new[] { server.DatabasePath, server.DatabasePath + "-wal" }.Where(File.Exists)
            .SelectMany(path =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            }).ToArray();
        return (text, identity!.VerifiedClaims["email"], files);
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    [Fact]
    public async Task With_encryption_at_rest_bodies_and_claims_are_not_in_the_files_and_read_back_as_written()
    {
        var marker = "enc" + Guid.NewGuid().ToString("N")[..12];
        var (text, email, files) = await RunAsync(encrypt: true, marker);

        Assert.Equal($"my card ends {marker}", text);
        Assert.Equal($"{marker}@mail.example", email);
        Assert.NotEmpty(files);
        Assert.False(Contains(files, $"my card ends {marker}"), "the message body is in the database in the clear");
        Assert.False(Contains(files, $"{marker}@mail.example"), "the verified email is in the database in the clear");
    }

    [Fact]
    public async Task Without_it_the_same_check_finds_them()
    {
        var marker = "plain" + Guid.NewGuid().ToString("N")[..12];
        var (_, _, files) = await RunAsync(encrypt: false, marker);

        Assert.True(Contains(files, $"my card ends {marker}"));
        Assert.True(Contains(files, $"{marker}@mail.example"));
    }

    [Fact]
    public void Rows_written_before_encryption_read_as_they_are_and_a_forged_marker_is_not_decrypted()
    {
        var protector = new Parley.Storage.DataProtectionFieldProtector(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider());
        var stored = protector.Protect("hello");
        Assert.NotEqual("hello", stored);
        Assert.Equal("hello", protector.Unprotect(stored));
        Assert.Equal("an old plain row", protector.Unprotect("an old plain row"));
        Assert.Equal("\u0001pe1:not-a-ciphertext", protector.Unprotect("\u0001pe1:not-a-ciphertext"));
        Assert.NotEqual(protector.Protect("hello"), protector.Protect("hello"));
    }
}
