using Microsoft.Data.Sqlite;

namespace Parley.Server.Tests;

/// <summary>
/// A full disk, made real with SQLite's page cap (<c>Parley:Storage:Sqlite:MaxPageCount</c>): the
/// database refuses to grow exactly as on a full file system (SQLITE_FULL).
/// </summary>
public sealed class DiskFullTests
{
    [Fact]
    public async Task When_the_disk_is_full_sends_are_refused_retryably_nothing_is_acknowledged_and_freeing_space_recovers()
    {
        var directory = Directory.CreateTempSubdirectory("parley-full-").FullName;
        var path = Path.Combine(directory, "parley.db");
        try
        {
            // A first start creates the schema and the demo brand; the cap is then set a little above that size.
            await (await TestServer.StartAsync($"--Parley:Storage:Sqlite:Path={path}")).DisposeAsync();
            long pages;
            await using (var probe = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                await probe.OpenAsync();
                await using var count = probe.CreateCommand();
                count.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA page_count;";
                await using var reader = await count.ExecuteReaderAsync();
                await reader.NextResultAsync();
                await reader.ReadAsync();
                pages = reader.GetInt64(0);
            }

            SqliteConnection.ClearAllPools();
            await using var server = await TestServer.StartAsync($"--Parley:Storage:Sqlite:Path={path}", $"--Parley:Storage:Sqlite:MaxPageCount={pages + 40}");
            await using var visitor = await server.ConsumerAsync(await server.NewVisitorAsync());
            await visitor.SendAsync(new { type = "conversation.start" });
            var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

            var big = new string('x', 3900);
            string? refusedId = null;
            for (var i = 0; i < 200 && refusedId is null; i++)
            {
                await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = $"m-{i}", text = $"{i} {big}" });
                var answer = await visitor.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error");
                if (answer.GetProperty("type").GetString() == "error")
                {
                    Assert.Equal("storage_unavailable", answer.GetProperty("code").GetString());
                    Assert.True(answer.GetProperty("retryable").GetBoolean());
                    refusedId = answer.GetProperty("clientMessageId").GetString();
                }
            }

            Assert.NotNull(refusedId);
            var stored = await server.Store.GetMessagesAsync(conversationId, 0, 500, CancellationToken.None);
            Assert.DoesNotContain(stored, m => m.ClientMessageId == refusedId);
            // About a page per message: the cap of 40 more pages is what stopped them, not anything else.
            Assert.InRange(stored.Count(m => m.ClientMessageId is not null), 5, 45);

            // An operator frees space (here: old messages); the same message goes through, without a restart.
            await using (var admin = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                await admin.OpenAsync();
                await using var free = admin.CreateCommand();
                free.CommandText = $"PRAGMA max_page_count={pages + 1000}; DELETE FROM messages WHERE conversation_id <> '' AND client_message_id IN ('m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5');";
                await free.ExecuteNonQueryAsync();
            }

            await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = refusedId, text = "after space was freed" });
            var ack = await visitor.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error");
            Assert.Equal("message.ack", ack.GetProperty("type").GetString());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
