using Parley.Conversations;
using Parley.Demo;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// U+0000 and other control characters from outside are refused before storage with a clear,
/// non-retryable <c>invalid_request</c>, the same on SQLite and PostgreSQL (which cannot store a
/// NUL in text or jsonb); tab and line breaks in a message are kept. Afterwards the tenant's
/// attribute search still works on both.
/// </summary>
public sealed class ControlCharacterTests(PostgresServerFixture postgres) : IClassFixture<PostgresServerFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private async Task<UseCaseHost> HostAsync(string provider) => provider == "sqlite"
        ? await UseCaseHost.StartAsync()
        : await UseCaseHost.StartAsync(null,
            "--Parley:Storage:Provider=postgres",
            $"--Parley:Storage:Postgres:ConnectionString={await postgres.Server.CreateDatabaseAsync()}",
            $"--Parley:DataProtection:KeysPath={Directory.CreateTempSubdirectory("parley-keys-").FullName}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Control_characters_are_refused_before_storage_and_nothing_is_stored(string provider)
    {
        await using var host = await HostAsync(provider);
        var conversations = host.Get<ConversationService>();
        var visitor = await host.NewVisitorAsync(DemoOptions.DeploymentId);
        var started = await conversations.StartAsync(visitor, new Dictionary<string, string> { ["cart"] = "149.00" }, None);

        var refusals = new (string Case, Func<Task> Attempt)[]
        {
            ("NUL in a message", () => conversations.SendAsync(visitor, started.Id, "c-1", "a\u0000b", None)),
            ("bell in a message", () => conversations.SendAsync(visitor, started.Id, "c-2", "ding\u0007", None)),
            ("NUL in a client message id", () => conversations.SendAsync(visitor, started.Id, "c-\u0000", "hello", None)),
            ("NUL in an attribute value", () => conversations.StartAsync(visitor, new Dictionary<string, string> { ["a"] = "a\u0000b" }, None)),
            ("NUL in an attribute name", () => conversations.StartAsync(visitor, new Dictionary<string, string> { ["a\u0000"] = "b" }, None)),
        };
        foreach (var (name, attempt) in refusals)
        {
            var refused = await Assert.ThrowsAsync<ParleyException>(attempt);
            Assert.True((ErrorCodes.InvalidRequest, 400, false) == (refused.Code, refused.Status, refused.Retryable), $"{name}: {refused.Code}");
            Assert.Contains("control character", refused.Message, StringComparison.Ordinal);
        }

        var kept = await conversations.SendAsync(visitor, started.Id, "c-3", "line one\nline\ttwo\r\n", None);
        Assert.Equal("line one\nline\ttwo\r\n", kept.Message.Text);
        var stored = await host.Store.GetMessagesAsync(started.Id, 0, 50, None);
        Assert.Single(stored, m => m.Kind == MessageKind.Text);
        Assert.Equal("149.00", (await host.Store.GetConversationAsync(started.Id, None))!.Attributes["cart"]);

        var found = await host.Store.SearchConversationsAsync(visitor.TenantId, new ConversationSearch(AttributeName: "cart", AttributeValue: "149.00"), None);
        Assert.Contains(found, c => c.Id == started.Id);
    }

    [Fact]
    public async Task An_admins_names_and_an_agents_search_with_a_NUL_get_a_clear_400()
    {
        await using var server = await TestServer.StartAsync();
        var admin = await server.AgentTokenAsync(DemoOptions.AdminEmail);
        async Task<System.Text.Json.JsonElement> PostAsync(string path, object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(body) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
            var response = await server.Http.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        }

        foreach (var problem in new[]
                 {
                     await PostAsync("/api/v1/admin/agents", new { email = "nul@acme.example", displayName = "Ana\u0000", password = "long-enough-password" }),
                     await PostAsync("/api/v1/admin/agents", new { email = "n\u0000l@acme.example", displayName = "Ana", password = "long-enough-password" }),
                     await PostAsync("/api/v1/agent/conversations/search", new { text = "refund\u0000" }),
                     await PostAsync("/api/v1/agent/conversations/search", new { consumer = "ada\u0000" }),
                 })
        {
            Assert.Equal("invalid_request", problem.GetProperty("code").GetString());
            Assert.Contains("control character", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.False(problem.TryGetProperty("retryable", out _));
        }
    }
}
