using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Parley.Server.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task Message_bodies_tokens_and_passwords_never_reach_the_logs()
    {
        var sink = new CapturingLoggerProvider();
        await using var server = await TestServer.StartAsync(
            builder => builder.Logging.AddProvider(sink).SetMinimumLevel(LogLevel.Trace),
            "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace");
        var visitor = await server.NewVisitorAsync();
        var agentToken = await server.AgentTokenAsync();
        await server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = Demo.DemoOptions.AgentEmail, password = "wrong-password-xyz" });

        await using (var consumer = await server.ConsumerAsync(visitor))
        await using (var agent = await server.AgentAsync(agentToken))
        {
            await consumer.SendAsync(new { type = "conversation.start", attributes = new { email = "secret.visitor@example.com" } });
            var conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "log-1", text = "my card is 4111 1111 1111 1111" });
            await consumer.ExpectAsync("message.ack");
            await consumer.SendRawAsync("{\"type\":\"message.send\",\"text\":\"malformed secret text\"");
            await consumer.ExpectAsync("error");
        }

        // An agent's search holds customers' data too: it goes in a body, never in a logged URL.
        var search = await server.SendAsync(HttpMethod.Post, "/api/v1/agent/conversations/search", agentToken,
            new { consumer = "searched.secret@example.com", text = "4111 1111", attribute = "email=secret.visitor@example.com" });
        search.EnsureSuccessStatusCode();

        var logs = string.Join("\n", sink.Lines);
        Assert.NotEmpty(sink.Lines);
        Assert.DoesNotContain("4111", logs);
        Assert.DoesNotContain("malformed secret text", logs);
        Assert.DoesNotContain("secret.visitor@example.com", logs);
        Assert.DoesNotContain("searched.secret", logs);
        Assert.Contains("/api/v1/agent/conversations/search", logs); // the request was logged, without its filters
        Assert.DoesNotContain(visitor, logs);
        Assert.DoesNotContain(agentToken, logs);
        Assert.DoesNotContain(visitor[4..20], logs);
        Assert.DoesNotContain("parley-demo", logs);
        Assert.DoesNotContain("wrong-password-xyz", logs);
    }

    [Fact]
    public async Task Tokens_login_states_and_verified_claims_never_reach_the_logs()
    {
        var sink = new CapturingLoggerProvider();
        await using var server = await TestServer.StartAsync(
            builder => builder.Logging.AddProvider(sink).SetMinimumLevel(LogLevel.Trace),
            "--Logging:LogLevel:Default=Trace");
        var brand = System.Security.Cryptography.RSA.Create(2048);
        var (deploymentId, _) = await server.NewTenantAsync();
        await TestTokens.AttachSettingsAsync(server, deploymentId, brand);
        var settings = (await server.Store.GetDeploymentAsync(deploymentId, CancellationToken.None))!.AuthenticationSettingsId!.Value;
        var record = (await server.Store.GetAuthenticationSettingsAsync(settings, CancellationToken.None))!;
        await server.Store.SaveAuthenticationSettingsAsync(record with { AuthorizationEndpoint = "https://idp.brand.example/authorize", UpdatedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        await server.Store.SetDeploymentBotAsync(deploymentId, new Bots.BotSettings
        {
            Cases = [new Bots.BotCase("Statement copy", ["statement"], "On its way.", RequiresAuthentication: true)],
        }, CancellationToken.None);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var jwt = TestTokens.Rs256(brand, new { iss = TestTokens.Issuer, aud = "parley", sub = "sub-secret-77", exp = now + 600, iat = now, email = "verified.secret@example.com" });
        var visitor = await server.NewVisitorAsync(deploymentId);

        string link;
        Guid conversationId;
        await using (var consumer = await server.ConsumerAsync(visitor, deploymentId))
        {
            await consumer.SendAsync(new { type = "conversation.start" });
            conversationId = (await consumer.ExpectAsync("conversation")).GetProperty("conversation").GetProperty("id").GetGuid();
            await consumer.SendAsync(new { type = "conversation.subscribe", conversationId, since = 0 });
            await consumer.SendAsync(new { type = "message.send", conversationId, clientMessageId = "s", text = "statement please" });
            link = (await consumer.ExpectAsync("message", f => f.GetProperty("message").GetProperty("text").GetString() == "authentication.requested"))
                .GetProperty("message").GetProperty("data").GetProperty("url").GetString()!;
            await consumer.SendAsync(new { type = "conversation.authenticate", conversationId, jwt = jwt[..^4] + "AAAA" });
            await consumer.ExpectAsync("error");
            await consumer.SendAsync(new { type = "conversation.authenticate", conversationId, jwt });
            await consumer.ExpectAsync("session");
        }

        var state = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(link).Query)["state"].ToString();
        var logs = string.Join("\n", sink.Lines);
        Assert.Contains(sink.Lines, l => l.Contains(conversationId.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(jwt[..40], logs);
        Assert.DoesNotContain(state, logs);
        Assert.DoesNotContain("verified.secret@example.com", logs);
        Assert.DoesNotContain("sub-secret-77", logs);
        Assert.DoesNotContain("statement please", logs);
    }

    [Fact]
    public async Task The_agent_web_app_cookie_authenticates_the_agent_socket()
    {
        await using var server = await TestServer.StartAsync();
        var login = await server.Http.PostAsJsonAsync("/api/v1/agent/login", new { email = Demo.DemoOptions.AgentEmail, password = "parley-demo" });
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("parley_agent=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookie.Split(';')[0]);
        await socket.ConnectAsync(server.WebSocketUri("/ws/agent"), CancellationToken.None);
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
        var ready = JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement;
        Assert.Equal("ready", ready.GetProperty("type").GetString());
        Assert.Equal("agent", ready.GetProperty("role").GetString());
        socket.Dispose();
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Lines.Enqueue($"{category}[{eventId.Id}] {formatter(state, exception)} {exception}");
        }
    }
}
