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
            "--Logging:LogLevel:Default=Trace");
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

        var logs = string.Join("\n", sink.Lines);
        Assert.NotEmpty(sink.Lines);
        Assert.DoesNotContain("4111", logs);
        Assert.DoesNotContain("malformed secret text", logs);
        Assert.DoesNotContain("secret.visitor@example.com", logs);
        Assert.DoesNotContain(visitor, logs);
        Assert.DoesNotContain(agentToken, logs);
        Assert.DoesNotContain(visitor[4..20], logs);
        Assert.DoesNotContain("parley-demo", logs);
        Assert.DoesNotContain("wrong-password-xyz", logs);
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
