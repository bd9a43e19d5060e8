using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using OpenTelemetry.Trace;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// What an operator scrapes and traces: the parley.* instruments after a short session, on an
/// endpoint only the machine itself (or the metrics port) reaches, and no token, claim or message
/// text in any metric or span attribute.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly RSA Brand = RSA.Create(2048);

    private static string Jwt(string sub, string email)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestTokens.Rs256(Brand, new { iss = TestTokens.Issuer, aud = "parley", sub, email, exp = now + 600, iat = now });
    }

    /// <summary>A short session: a logged-in visitor and an anonymous one write, an agent accepts and answers, a forged login is refused.</summary>
    private static async Task<string[]> SessionAsync(TestServer server)
    {
        var (deploymentId, agentEmail) = await server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(server, deploymentId, Brand);
        var secretText = "telemetry-secret-" + Guid.NewGuid().ToString("N");
        var email = $"{Guid.NewGuid():N}@pii.example";
        var jwt = Jwt("telemetry-" + Guid.NewGuid().ToString("N")[..8], email);
        var session = await (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt })).Content.ReadFromJsonAsync<JsonElement>();
        var visitorToken = session.GetProperty("visitorToken").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId, jwt = jwt[..^4] + "AAAA" })).StatusCode);

        await using var visitor = await server.ConsumerAsync(visitorToken, deploymentId);
        await visitor.SendAsync(new { type = "conversation.start" });
        var conversationId = (await visitor.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
        await visitor.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
        await visitor.ExpectAsync("subscribed");
        await visitor.SendAsync(new { type = "message.send", conversationId, clientMessageId = "t-1", text = secretText });
        await visitor.ExpectAsync("message.ack");
        var agentToken = await server.AgentTokenAsync(agentEmail);
        await using var agent = await server.AgentAsync(agentToken);
        await agent.SendAsync(new { type = "conversation.accept", conversationId });
        await agent.ExpectAsync("conversation.updated");
        await agent.SendAsync(new { type = "message.send", conversationId, clientMessageId = "a-1", text = secretText + "-reply" });
        await agent.ExpectAsync("message.ack");
        await visitor.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == secretText + "-reply");
        return [secretText, email, jwt, visitorToken, agentToken, "pii.example"];
    }

    [Fact]
    public async Task The_metrics_endpoint_shows_the_instruments_after_a_short_session_with_no_secret_in_them_and_only_to_the_machine_itself()
    {
        await using var server = await TestServer.StartAsync("--Parley:Limits:TokenTestsPerAdminPerMinute=1");
        var secrets = await SessionAsync(server);

        // A brand whose keys are fetched from its URL, and an admin over the token tester's limit.
        await using var idp = await BrandEndpoint.StartAsync();
        idp.Serve("/keys.pem", Brand.ExportSubjectPublicKeyInfoPem());
        var (fetched, _) = await server.NewTenantAsync();
        var settings = await TestTokens.AttachSettingsAsync(server, fetched, Brand);
        await server.Store.SaveAuthenticationSettingsAsync(settings with { KeysDocument = null, KeysUrl = idp.Url("/keys.pem").ToString() }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, (await server.Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = fetched, jwt = Jwt("fetched", "f@pii.example") })).StatusCode);
        var admin = await server.AdminTokenAsync(settings.TenantId);
        var tests = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            tests.Add((await server.SendAsync(HttpMethod.Post, $"/api/v1/admin/authentication-settings/{settings.Id}/test", admin, new { token = "x.y.z" })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, tests[^1]);

        var scrape = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var text = await scrape.Content.ReadAsStringAsync();
        foreach (var instrument in new[]
        {
            "parley_connections", "parley_frames_received_total", "parley_frames_sent_total", "parley_messages_stored_total",
            "parley_storage_commit_duration_seconds_bucket", "parley_storage_batch_size_bucket", "parley_fanout_lag_seconds_bucket",
            "parley_logins_total", "parley_conversations_waiting", "parley_conversations_longest_wait_seconds",
            "parley_keys_fetches_total", "parley_rate_limit_refusals_total",
        })
        {
            Assert.Contains(instrument, text, StringComparison.Ordinal);
        }

        Assert.Contains("parley_login_outcome=\"refused\"", text, StringComparison.Ordinal);
        Assert.Contains("parley_frame_type=\"message.send\"", text, StringComparison.Ordinal);
        Assert.Contains("parley_outcome=\"ok\"", text, StringComparison.Ordinal);
        Assert.Contains("parley_policy=\"parley-token-test\"", text, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        // Through a proxy (a forwarded request) it is not there: the scrape endpoint is never public by default.
        using var proxied = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { { "X-Forwarded-For", "203.0.113.9" } } };
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.SendAsync(proxied)).StatusCode);
    }

    [Fact]
    public async Task Spans_follow_a_frame_to_its_commit_and_carry_no_token_claim_or_message_text()
    {
        var spans = new List<Activity>();
        await using (var server = await TestServer.StartAsync(builder => builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans))))
        {
            var secrets = await SessionAsync(server);
            await Task.Delay(200);
            lock (spans)
            {
                var frame = Assert.Single(spans, s => s.DisplayName == "frame message.send" && (string?)s.GetTagItem("parley.role") == "consumer");
                var store = spans.Where(s => s.DisplayName == "store messages").ToList();
                Assert.Contains(store, s => s.Links.Any(l => l.Context.SpanId == frame.SpanId));
                Assert.Contains(spans, s => s.Kind == ActivityKind.Server && s.DisplayName.StartsWith("POST /api/v1/sessions", StringComparison.Ordinal));
                foreach (var span in spans)
                {
                    foreach (var (name, value) in span.TagObjects)
                    {
                        foreach (var secret in secrets)
                        {
                            Assert.False(value?.ToString()?.Contains(secret, StringComparison.Ordinal) == true, $"span {span.DisplayName} tag {name} holds a secret");
                        }
                    }
                }
            }
        }
    }
}
