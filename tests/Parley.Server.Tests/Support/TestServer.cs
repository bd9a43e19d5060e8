using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Parley.Demo;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Server.Tests;

/// <summary>A real Parley server on Kestrel (127.0.0.1, free port) with its own SQLite file and the demo brand.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestServer(WebApplication app, string directory, Uri address)
    {
        _app = app;
        _directory = directory;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public string DatabasePath => Path.Combine(_directory, "parley.db");

    public SqlParleyStore Store => _app.Services.GetRequiredService<SqlParleyStore>();

    public IServiceProvider Services => _app.Services;

    public static readonly Guid DemoDeployment = DemoOptions.DeploymentId;

    public static Task<TestServer> StartAsync(params string[] settings) => StartAsync(null, settings);

    public static async Task<TestServer> StartAsync(Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "parley-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            "--environment=Development",
            $"--Parley:Storage:Sqlite:Path={Path.Combine(directory, "parley.db")}",
            "--Parley:Demo:Enabled=true",
            "--Logging:LogLevel:Default=Warning",
            .. Parley.Testing.GenerousLimits.Settings,
            .. settings,
        ];
        var app = ParleyApp.Create(args, configure);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, directory, new Uri(address));
    }

    public Uri WebSocketUri(string path) => new($"ws://{Address.Authority}{path}");

    /// <summary>A new anonymous visitor on a deployment (the demo one by default).</summary>
    public async Task<string> NewVisitorAsync(Guid? deploymentId = null)
    {
        var response = await Http.PostAsJsonAsync("/api/v1/sessions", new { deploymentId = deploymentId ?? DemoDeployment });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
    }

    public async Task<string> AgentTokenAsync(string email = DemoOptions.AgentEmail, string password = "parley-demo")
    {
        var response = await Http.PostAsJsonAsync("/api/v1/agent/login", new { email, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A second brand, with its own deployment and agent, for isolation tests.</summary>
    public async Task<(Guid DeploymentId, string AgentEmail)> NewTenantAsync(string origin = "https://other.example")
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant(Guid.NewGuid(), "Other brand", now);
        var deployment = new Deployment(Guid.NewGuid(), tenant.Id, "web", [origin], now);
        await Store.CreateTenantAsync(tenant, CancellationToken.None);
        await Store.CreateDeploymentAsync(deployment, CancellationToken.None);
        var hasher = new Microsoft.AspNetCore.Identity.PasswordHasher<Agents.Agent>();
        var agent = new Agents.Agent(Guid.NewGuid(), tenant.Id, $"agent-{tenant.Id:N}@other.example", "Other", "", Agents.AgentRole.Agent, 5, now);
        await Store.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, "parley-demo") }, CancellationToken.None);
        return (deployment.Id, agent.Email);
    }

    /// <summary>A request with a bearer token (a visitor's, an agent's or an admin's) and, when given, a JSON body.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", token);
        return await Http.SendAsync(request);
    }

    /// <summary>A new agent (or admin) of a tenant, signed in: their id and bearer token.</summary>
    public async Task<(Guid Id, string Token)> NewAgentAsync(
        Guid tenantId, Agents.AgentRole role = Agents.AgentRole.Agent, int capacity = 5, IReadOnlyList<string>? queues = null)
    {
        var hasher = new Microsoft.AspNetCore.Identity.PasswordHasher<Agents.Agent>();
        var agent = new Agents.Agent(Guid.NewGuid(), tenantId, $"{role}-{Guid.NewGuid():N}@acme.example".ToLowerInvariant(), "Ana", "", role, capacity, DateTimeOffset.UtcNow, queues);
        await Store.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, "parley-demo") }, CancellationToken.None);
        return (agent.Id, await AgentTokenAsync(agent.Email));
    }

    public async Task<string> AdminTokenAsync(Guid tenantId) => (await NewAgentAsync(tenantId, Agents.AgentRole.Admin)).Token;

    public async Task<WsClient> ConsumerAsync(string visitorToken, Guid? deploymentId = null)
    {
        var client = await WsClient.ConnectAsync(WebSocketUri($"/ws/consumer?deploymentId={deploymentId ?? DemoDeployment}"));
        await client.SendAsync(new { type = "auth", token = visitorToken });
        await client.ExpectAsync("ready");
        return client;
    }

    public async Task<WsClient> AgentAsync(string agentToken)
    {
        var client = await WsClient.ConnectAsync(WebSocketUri("/ws/agent"), agentToken);
        await client.ExpectAsync("ready");
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
