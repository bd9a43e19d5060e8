using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Parley.Agents;
using Parley.Authentication;
using Parley.Routing;
using Parley.Storage;
using Parley.Storage.Postgres;
using Parley.Storage.Sqlite;
using Parley.Tenants;
using Parley.Testing;

namespace Parley.Load;

/// <summary>What the load connects to: the nodes' addresses, the brand it set up, and the server processes to sample.</summary>
public sealed class Target : IAsyncDisposable
{
    public const string Issuer = "https://brand.load.test";
    public const string Password = "load-test-password";
    private readonly List<Process> _processes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-load-" + Guid.NewGuid().ToString("N"));
    private PostgresServer? _postgres;
    private bool _defaultLimits;

    public IReadOnlyList<Uri> Nodes { get; private set; } = [];

    public Guid DeploymentId { get; private set; } = Guid.NewGuid();

    public IReadOnlyList<string> AgentEmails { get; private set; } = [];

    /// <summary>The brand's signing key: consumers log in with JWTs signed by it.</summary>
    public RSA BrandKey { get; } = RSA.Create(2048);

    public IReadOnlyList<Process> Processes => _processes;

    public string Description { get; private set; } = "";

    /// <summary>Starts the servers of <paramref name="target"/> with a brand of <paramref name="agents"/> agents, each able to hold <paramref name="capacity"/> conversations.</summary>
    public static async Task<Target> StartAsync(string target, int agents, int capacity, bool defaultLimits = false)
    {
        var started = new Target { _defaultLimits = defaultLimits };
        Directory.CreateDirectory(started._directory);
        started.AgentEmails = Enumerable.Range(0, agents).Select(i => $"agent{i}@load.test").ToList();
        switch (target)
        {
            case "baseline":
                started.Description = "baseline relay (Kestrel WebSockets, no auth, no storage)";
                started.Nodes = [await started.LaunchAsync(["--baseline-server", "--Logging:LogLevel:Default=Warning"], [])];
                break;
            case "sqlite":
                var path = Path.Combine(started._directory, "parley.db");
                await started.SeedAsync(new SqliteParleyStore(new SqliteStoreOptions { Path = path }), capacity);
                started.Description = "Parley, SQLite (WAL, synchronous=FULL)";
                started.Nodes = [await started.LaunchParleyAsync(["--Parley:Storage:Provider=sqlite", $"--Parley:Storage:Sqlite:Path={path}"])];
                break;
            case "postgres" or "postgres2":
                started._postgres = await PostgresServer.StartAsync();
                var connectionString = await started._postgres.CreateDatabaseAsync();
                await using (var store = new PostgresParleyStore(new PostgresStoreOptions { ConnectionString = connectionString }))
                {
                    await started.SeedAsync(store, capacity);
                }

                string[] settings = ["--Parley:Storage:Provider=postgres", $"--Parley:Storage:Postgres:ConnectionString={connectionString}"];
                var count = target == "postgres2" ? 2 : 1;
                started.Description = count == 1 ? "Parley, PostgreSQL, one node" : "Parley, PostgreSQL, two nodes (LISTEN/NOTIFY)";
                var nodes = new List<Uri>();
                for (var i = 0; i < count; i++)
                {
                    nodes.Add(await started.LaunchParleyAsync(settings));
                }

                started.Nodes = nodes;
                break;
            default:
                throw new ArgumentException($"Unknown target \"{target}\": sqlite, postgres, postgres2 or baseline.");
        }

        return started;
    }

    /// <summary>The brand: a deployment whose authentication settings trust <see cref="BrandKey"/>, its agents, and automatic assignment.</summary>
    private async Task SeedAsync(SqlParleyStore store, int capacity)
    {
        var ct = CancellationToken.None;
        await store.MigrateAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant(Guid.NewGuid(), "Load brand", now);
        await store.CreateTenantAsync(tenant, ct);
        var settings = new AuthenticationSettings
        {
            Id = Guid.NewGuid(), TenantId = tenant.Id, Name = "load", Issuer = Issuer, ClientId = "parley",
            KeysDocument = BrandKey.ExportSubjectPublicKeyInfoPem(), AllowedAlgorithms = ["RS256"], CreatedAt = now, UpdatedAt = now,
        };
        await store.SaveAuthenticationSettingsAsync(settings, ct);
        await store.CreateDeploymentAsync(new Deployment(DeploymentId, tenant.Id, "load", ["https://brand.load.test"], now, settings.Id), ct);
        var hasher = new PasswordHasher<Agent>();
        foreach (var email in AgentEmails)
        {
            var agent = new Agent(Guid.NewGuid(), tenant.Id, email, email, "", AgentRole.Agent, capacity, now);
            await store.CreateAgentAsync(agent with { PasswordHash = hasher.HashPassword(agent, Password) }, ct);
        }

        await store.SaveRoutingConfigurationAsync(tenant.Id, RoutingConfiguration.Default with { AutoAssign = true }, now, ct);
    }

    private Task<Uri> LaunchParleyAsync(string[] settings) =>
        LaunchAsync(
            [
                Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"),
                "--Parley:Demo:Enabled=false",
                "--Logging:LogLevel:Default=Warning",
                $"--Parley:DataProtection:KeysPath={Path.Combine(_directory, "keys")}",
                .. (_defaultLimits ? [] : GenerousLimits.Settings),
                .. settings,
            ],
            [("ASPNETCORE_ENVIRONMENT", "Production")]);

    /// <summary>Starts a server process (this program for the baseline, else Parley) on a free loopback port and waits until it answers.</summary>
    private async Task<Uri> LaunchAsync(string[] arguments, (string, string)[] environment)
    {
        var port = PostgresServer.FreePort();
        // The servers' own output goes to stderr with the progress lines: stdout holds only the table (or --json).
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true };
        if (arguments[0] == "--baseline-server")
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Parley.Load.dll"));
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                Console.Error.WriteLine(line.Data);
            }
        };
        process.BeginOutputReadLine();
        _processes.Add(process);
        var address = new Uri($"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return address;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {process.ExitCode} during start.");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The server did not become ready within 30 s.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
