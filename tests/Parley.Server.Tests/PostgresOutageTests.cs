using System.Net;
using System.Text.Json;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>A Parley node on its own PostgreSQL, which is stopped and restarted mid-conversation.</summary>
public sealed class PostgresOutageTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _server = await TestServer.StartAsync(
            "--Parley:Storage:Provider=postgres",
            $"--Parley:Storage:Postgres:ConnectionString={await _postgres.CreateDatabaseAsync()}");
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
}
