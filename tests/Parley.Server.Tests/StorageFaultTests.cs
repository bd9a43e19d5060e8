using Microsoft.Data.Sqlite;

namespace Parley.Server.Tests;

public sealed class StorageFaultTests
{
    [Fact]
    public async Task Sends_are_refused_with_a_retryable_error_while_the_database_is_locked_and_work_after()
    {
        await using var server = await TestServer.StartAsync("--Parley:Storage:Sqlite:BusyTimeout=00:00:00.200");
        await using var consumer = await server.ConsumerAsync(await server.NewVisitorAsync());
        await consumer.SendAsync(new { type = "conversation.start" });
        var conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

        await using (var blocker = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False"))
        {
            await blocker.OpenAsync();
            await using var hold = await blocker.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);

            await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "during-outage", text = "hello" });
            var refused = await consumer.NextAsync(f => f.GetProperty("type").GetString() is "error" or "message.ack");

            Assert.Equal("error", refused.GetProperty("type").GetString());
            Assert.Equal("storage_unavailable", refused.GetProperty("code").GetString());
            Assert.True(refused.GetProperty("retryable").GetBoolean());
            Assert.Equal("during-outage", refused.GetProperty("clientMessageId").GetString());
        }

        await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "during-outage", text = "hello" });
        var ack = await consumer.ExpectAsync("message.ack");
        Assert.False(ack.GetProperty("duplicate").GetBoolean());
        var stored = await server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None);
        Assert.Single(stored, m => m.ClientMessageId == "during-outage");
    }
}
