using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Parley.Demo;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Kills the server with SIGKILL while a client streams messages, restarts it, and checks that
/// every acknowledged message is stored exactly once (and that resending the rest stores each once).
/// </summary>
public sealed class CrashTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("parley-crash-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public Task Acknowledged_messages_survive_SIGKILL_on_sqlite() =>
        RunAsync($"--Parley:Storage:Sqlite:Path={Path.Combine(_directory, "parley.db")}");

    [Fact]
    public async Task Acknowledged_messages_survive_SIGKILL_on_postgres() =>
        await RunAsync("--Parley:Storage:Provider=postgres", $"--Parley:Storage:Postgres:ConnectionString={await postgres.Server.CreateDatabaseAsync()}");

    private async Task RunAsync(params string[] settings)
    {
        await using var server = new ServerProcess(_directory, settings);
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Address };
        var session = await (await http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = DemoOptions.DeploymentId }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var visitor = session.GetProperty("visitorToken").GetString()!;
        var ws = new Uri($"ws://127.0.0.1:{server.Port}/ws/consumer?deploymentId={DemoOptions.DeploymentId}");

        var acked = new ConcurrentDictionary<string, long>();
        var sent = new List<string>();
        Guid conversationId;
        var client = await WsClient.ConnectAsync(ws, visitor);
        try
        {
            await client.ExpectAsync("ready");
            await client.SendAsync(new { type = "conversation.start" });
            conversationId = (await client.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();

            // One task streams sends without waiting for acks; the other collects acks and, after
            // 150 of them, kills the server while hundreds of sends are still in flight.
            var killed = false;
            var collector = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var ack = await client.ExpectAsync("message.ack", wait: TimeSpan.FromSeconds(5));
                        acked[ack.GetProperty("clientMessageId").GetString()!] = ack.GetProperty("seq").GetInt64();
                        if (acked.Count == 150)
                        {
                            await server.KillAsync();
                            killed = true;
                        }
                    }
                }
                catch (Exception exception) when (exception is TimeoutException or InvalidOperationException)
                {
                }
            });

            for (var i = 0; i < 20_000 && !Volatile.Read(ref killed); i++)
            {
                var id = $"crash-{i}";
                try
                {
                    await client.SendAsync(new { type = "message.send", conversationId, clientMessageId = id, text = $"message {i}" });
                    sent.Add(id);
                }
                catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
                {
                    // The kill broke the connection; this send may or may not have reached the server.
                    sent.Add(id);
                    break;
                }
            }

            await collector.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(killed, "the server was killed mid-stream");
            await collector.WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            await client.DisposeAsync();
        }

        Assert.True(sent.Count > acked.Count, "some sends were still in flight when the server died");
        await server.StartAsync();

        // Every acknowledged message is stored, once, at the seq it was acknowledged with.
        var stored = await HistoryAsync(http, visitor, conversationId);
        foreach (var (clientId, seq) in acked)
        {
            var copies = stored.Where(m => m.ClientId == clientId).ToList();
            Assert.Single(copies);
            Assert.Equal(seq, copies[0].Seq);
        }

        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(m => m.Seq));

        // The client resends everything it never saw acknowledged: each ends up stored exactly once.
        await using (var again = await WsClient.ConnectAsync(ws, visitor))
        {
            await again.ExpectAsync("ready");
            foreach (var id in sent.Where(id => !acked.ContainsKey(id)))
            {
                await again.SendAsync(new { type = "message.send", conversationId, clientMessageId = id, text = "resent" });
            }

            for (var remaining = sent.Count - acked.Count; remaining > 0; remaining--)
            {
                await again.ExpectAsync("message.ack");
            }
        }

        var final = (await HistoryAsync(http, visitor, conversationId)).Select(m => m.ClientId).ToList();
        Assert.Equal(final.Count, final.Distinct().Count());
        // Everything the client tried to send is stored once (a send interrupted by the kill counts
        // as tried), and nothing else is.
        Assert.Equal(sent.Order(), final.Order());
    }

    private static async Task<List<(long Seq, string ClientId)>> HistoryAsync(HttpClient http, string visitor, Guid conversationId)
    {
        var all = new List<(long, string)>();
        long? after = 0;
        while (after is { } a)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/consumer/conversations/{conversationId}/messages?after={a}&limit=200");
            request.Headers.Authorization = new("Bearer", visitor);
            var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            all.AddRange(page.GetProperty("items").EnumerateArray()
                .Where(m => m.GetProperty("kind").GetString() == "text")
                .Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("clientMessageId").GetString()!)));
            after = page.GetProperty("nextAfter").ValueKind == JsonValueKind.Number ? page.GetProperty("nextAfter").GetInt64() : null;
        }

        return all;
    }
}
