using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Server.Tests;

[CollectionDefinition(nameof(ReleaseTests), DisableParallelization = true)]
public sealed class ReleaseCollection;

/// <summary>
/// The release a team deploys: <c>./build.sh publish</c>'s self-contained build is the folder the
/// Dockerfile copies; started from another directory with compose.yaml's settings (its PostgreSQL
/// replaced by a throwaway one), it migrates, answers /readyz, serves the embedded widget and
/// workspace, and its CLI does an operator's chores. (No Docker daemon runs here; this is the part
/// of the image that is Parley's.)
/// </summary>
[Collection(nameof(ReleaseTests))]
public sealed partial class ReleaseTests
{
    [GeneratedRegex(@"publish\)[^\n]*?dotnet (publish [^;\n]+)")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"^COPY (\S+)/? ", RegexOptions.Multiline)]
    private static partial Regex DockerCopy();

    [GeneratedRegex(@"^\s*(?:ENV\s+)?(\w+)=(\S+?)\s*\\?$", RegexOptions.Multiline)]
    private static partial Regex DockerEnv();

    [GeneratedRegex(@"\$\{\w+:-([^}]*)\}")]
    private static partial Regex ComposeDefault();

    private static string Root => RepositoryPaths.Root;

    /// <summary>The <c>environment:</c> map of compose.yaml's <c>parley</c> service, with <c>${VAR:-default}</c> resolved to the default.</summary>
    private static Dictionary<string, string> ComposeEnvironment()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "compose.yaml"));
        var service = Array.FindIndex(lines, l => l == "  parley:");
        var start = Array.FindIndex(lines, service, l => l.Trim() == "environment:");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(start + 1).TakeWhile(l => l.StartsWith("      ", StringComparison.Ordinal)))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            environment[line[..colon].Trim()] = ComposeDefault().Replace(line[(colon + 1)..].Trim().Trim('"'), m => m.Groups[1].Value);
        }

        return environment;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> arguments, string directory, IDictionary<string, string>? environment = null, string? input = null)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }

    [Fact]
    public async Task The_published_build_the_dockerfile_copies_starts_with_the_compose_settings_and_answers_readyz()
    {
        // The one publish command, as build.sh runs it, into the folder the Dockerfile copies.
        var publish = PublishCommand().Match(await File.ReadAllTextAsync(Path.Combine(Root, "build.sh")));
        Assert.True(publish.Success, "build.sh has no publish command");
        var arguments = publish.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var output = arguments[Array.IndexOf(arguments, "-o") + 1];
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Root, "Dockerfile"));
        Assert.Equal(output, DockerCopy().Match(dockerfile).Groups[1].Value.TrimEnd('/'));
        var (code, log) = await RunAsync("dotnet", [.. arguments, "-nologo", "-v", "quiet"], Root);
        Assert.True(code == 0, "dotnet publish failed: " + log);
        var binary = Path.Combine(Root, output, "Parley.Server");
        Assert.True(File.Exists(binary), "the self-contained executable is missing");
        Assert.True(File.Exists(Path.Combine(Root, output, "libhostfxr.so")), "the build is not self-contained");

        // The container's environment: the Dockerfile's ENV, then compose.yaml's, with a throwaway
        // PostgreSQL and a free loopback port instead of db:5432 and :8080.
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        var environment = DockerEnv().Matches(dockerfile).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        foreach (var (key, value) in ComposeEnvironment())
        {
            environment[key] = value;
        }

        Assert.Equal("postgres", environment["Parley__Storage__Provider"]);
        Assert.Contains("Database=parley", environment["Parley__Storage__Postgres__ConnectionString"], StringComparison.Ordinal);
        var home = Directory.CreateTempSubdirectory("parley-release-");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        environment["Parley__Storage__Postgres__ConnectionString"] = postgres.ConnectionStringFor(database);
        environment["Parley__DataProtection__KeysPath"] = Path.Combine(home.FullName, "keys");
        Assert.Equal("http://+:8080", environment["Urls"]);
        environment["Urls"] = $"http://127.0.0.1:{port}";
        environment["Parley__PublicUrl"] = $"http://127.0.0.1:{port}";

        // The CLI of the same binary: migrations only, then the first brand and its admin.
        var (migrated, migrateLog) = await RunAsync(binary, ["migrate"], home.FullName, environment);
        Assert.True(migrated == 0, migrateLog);
        Assert.Contains("schema version", migrateLog, StringComparison.Ordinal);
        var (created, createLog) = await RunAsync(binary, ["tenant", "create", "--name", "Acme", "--origin", "https://www.acme.example", "--admin-email", "admin@acme.example"],
            home.FullName, environment, input: "a-long-admin-password");
        Assert.True(created == 0, createLog);
        var tenantId = JsonDocument.Parse(createLog.Trim().Split('\n')[0]).RootElement.GetProperty("tenantId").GetString()!;

        var start = new ProcessStartInfo(binary) { WorkingDirectory = home.FullName, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var server = Process.Start(start)!;
        var serverLog = new System.Collections.Concurrent.ConcurrentQueue<string>();
        server.OutputDataReceived += (_, line) => serverLog.Enqueue(line.Data ?? "");
        server.ErrorDataReceived += (_, line) => serverLog.Enqueue(line.Data ?? "");
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            JsonElement? ready = null;
            for (var attempt = 0; attempt < 160 && ready is null && !server.HasExited; attempt++)
            {
                try
                {
                    var response = await http.GetAsync("/readyz");
                    ready = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(ready is null ? 250 : 0);
            }

            Assert.True(ready?.GetProperty("status").GetString() == "ready", "the server did not become ready: " + string.Join('\n', serverLog.TakeLast(40)));
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/widget.js")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/app/")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/demo-brand")).StatusCode); // the demo is off, as compose says
            var login = await http.PostAsJsonAsync("/api/v1/agent/login", new { email = "admin@acme.example", password = "a-long-admin-password" });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);

            // Export the brand; rotate the key ring (a new key, the old ones kept to read).
            var (exported, exportLog) = await RunAsync(binary, ["tenant", "export", "--tenant", tenantId, "--out", Path.Combine(home.FullName, "acme.json")], home.FullName, environment);
            Assert.True(exported == 0, exportLog);
            using var export = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(home.FullName, "acme.json")));
            Assert.Equal("parley-tenant-export/1", export.RootElement.GetProperty("format").GetString());
            Assert.Equal("admin@acme.example", export.RootElement.GetProperty("agents")[0].GetProperty("email").GetString());
            Assert.DoesNotContain("passwordHash", export.RootElement.GetRawText(), StringComparison.OrdinalIgnoreCase);
            var keysBefore = Directory.GetFiles(Path.Combine(home.FullName, "keys")).Length;
            var (rotated, rotateLog) = await RunAsync(binary, ["keys", "rotate"], home.FullName, environment);
            Assert.True(rotated == 0, rotateLog);
            Assert.Equal(keysBefore + 1, Directory.GetFiles(Path.Combine(home.FullName, "keys")).Length);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            home.Delete(recursive: true);
        }
    }
}
