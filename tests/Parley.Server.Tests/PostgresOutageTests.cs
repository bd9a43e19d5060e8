using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>A Parley node on its own PostgreSQL, which is stopped and restarted mid-conversation.</summary>
public sealed class PostgresOutageTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private TestServer _server = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        var connectionString = await _postgres.CreateDatabaseAsync();
        _database = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
        _server = await TestServer.StartAsync(
            "--Parley:Storage:Provider=postgres",
            $"--Parley:Storage:Postgres:ConnectionString={connectionString}");
    }

    /// <summary>Makes the database read-only (or writable again) for new sessions, and ends the open ones.</summary>
    private async Task SetReadOnlyAsync(bool readOnly)
    {
        await using var admin = new Npgsql.NpgsqlConnection(_postgres.AdminConnectionString);
        await admin.OpenAsync();
        foreach (var sql in new[]
        {
            $"ALTER DATABASE \"{_database}\" SET default_transaction_read_only = {(readOnly ? "on" : "off")}",
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database}' AND pid <> pg_backend_pid()",
        })
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, admin);
            await command.ExecuteNonQueryAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    private async Task<HttpResponseMessage> MeAsync(string agentToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/me");
        request.Headers.Authorization = new("Bearer", agentToken);
        return await _server.Http.SendAsync(request);
    }

    private static async Task<JsonElement> SendAsync(WsClient client, Guid conversationId, string clientMessageId)
    {
        await client.SendAsync(new { type = "message.send", conversationId, clientMessageId, text = "hello" });
        return await client.NextAsync(f => f.GetProperty("type").GetString() is "message.ack" or "error"
            && f.TryGetProperty("clientMessageId", out var c) && c.GetString() == clientMessageId, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task While_the_database_is_down_nothing_is_acknowledged_and_everything_recovers_without_a_restart()
    {
        var agent = await _server.AgentTokenAsync();
        await using var consumer = await _server.ConsumerAsync(await _server.NewVisitorAsync());
        await consumer.SendAsync(new { type = "conversation.start" });
        var conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        Assert.Equal("message.ack", (await SendAsync(consumer, conversationId, "before")).GetProperty("type").GetString());

        await _postgres.StopAsync();

        var refused = await SendAsync(consumer, conversationId, "during");
        Assert.Equal(("error", "storage_unavailable"), (refused.GetProperty("type").GetString(), refused.GetProperty("code").GetString()));
        Assert.True(refused.GetProperty("retryable").GetBoolean());
        var me = await MeAsync(agent);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, me.StatusCode);
        Assert.True(me.Headers.RetryAfter is not null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _server.Http.GetAsync("/readyz")).StatusCode);

        await _postgres.RestartAsync();

        // The client retries the same message, as a retryable error tells it to; the node recovers by itself.
        JsonElement retried = default;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            retried = await SendAsync(consumer, conversationId, "during");
            if (retried.GetProperty("type").GetString() == "message.ack")
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal("message.ack", retried.GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.OK, (await MeAsync(agent)).StatusCode);
        var stored = await _server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None);
        Assert.Equal(["before", "during"], stored.Where(m => m.Kind == Conversations.MessageKind.Text).Select(m => m.ClientMessageId));
    }

    [Fact]
    public async Task While_the_database_refuses_writes_nothing_is_acknowledged_and_writes_work_again_without_a_restart()
    {
        await using var consumer = await _server.ConsumerAsync(await _server.NewVisitorAsync());
        await consumer.SendAsync(new { type = "conversation.start" });
        var conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        Assert.Equal("message.ack", (await SendAsync(consumer, conversationId, "before")).GetProperty("type").GetString());

        await SetReadOnlyAsync(true);
        var refused = await SendAsync(consumer, conversationId, "read-only");
        Assert.Equal(("error", "storage_unavailable"), (refused.GetProperty("type").GetString(), refused.GetProperty("code").GetString()));
        Assert.True(refused.GetProperty("retryable").GetBoolean());

        await SetReadOnlyAsync(false);
        var ack = await SendAsync(consumer, conversationId, "read-only");
        Assert.Equal("message.ack", ack.GetProperty("type").GetString());
        Assert.False(ack.GetProperty("duplicate").GetBoolean());
        Assert.Single(await _server.Store.GetMessagesAsync(conversationId, 0, 10, CancellationToken.None), m => m.ClientMessageId == "read-only");
    }
}
