using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Parley.Testing;

/// <summary>
/// A throwaway PostgreSQL server for tests: initdb into a temporary folder, pg_ctl start on a
/// free loopback port, pg_ctl stop and delete on dispose. Runs the server as the 'postgres'
/// user when the tests run as root (PostgreSQL refuses to run as root).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly bool _asPostgresUser;
    private int _databaseCounter;

    private PostgresServer(string binDirectory, string dataDirectory, int port, bool asPostgresUser)
    {
        _binDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>A connection string for the server's 'postgres' database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=5;Command Timeout=30";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinDirectory();
        var root = Path.Combine(Path.GetTempPath(), "parley-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var asPostgresUser = Environment.UserName == "root";
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres", root], false);
        }

        var data = Path.Combine(root, "data");
        var port = FreePort();
        var server = new PostgresServer(bin, data, port, asPostgresUser);
        await server.RunToolAsync("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
        await server.StartServerAsync(root);
        return server;
    }

    private string SocketDirectory => Path.GetDirectoryName(DataDirectory)!;

    private async Task StartServerAsync(string root)
    {
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=on -c max_connections=200";
        await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-o", options, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", "start"]);
    }

    /// <summary>Stops the server (fast shutdown) without deleting its data.</summary>
    public Task StopAsync() => RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"]);

    /// <summary>Starts a stopped server again on the same port with the same data.</summary>
    public Task RestartAsync() => StartServerAsync(SocketDirectory);

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "parley")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionStringFor(name);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(SocketDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task RunToolAsync(string tool, IReadOnlyList<string> arguments) =>
        RunAsync(Path.Combine(_binDirectory, tool), arguments, _asPostgresUser);

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgresUser)
    {
        // Output goes to a file, not a pipe: 'pg_ctl start' leaves the server running with the
        // tool's standard streams, so a pipe would never reach end-of-file.
        var outputFile = Path.Combine(Path.GetTempPath(), "parley-pg-tool-" + Guid.NewGuid().ToString("N") + ".log");
        var start = new ProcessStartInfo
        {
            FileName = "/bin/sh",
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" > \"$0\" 2>&1 < /dev/null");
        start.ArgumentList.Add(outputFile);
        if (asPostgresUser)
        {
            start.ArgumentList.Add("runuser");
        }

        if (asPostgresUser)
        {
            foreach (var a in new[] { "-u", "postgres", "--" })
            {
                start.ArgumentList.Add(a);
            }
        }

        start.ArgumentList.Add(file);

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        await process.WaitForExitAsync();
        var output = File.Exists(outputFile) ? await File.ReadAllTextAsync(outputFile) : "";
        File.Delete(outputFile);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {output}");
        }
    }

    private static string FindBinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .ToList()
            : [];
        return versions.Count > 0
            ? Path.Combine(versions[0], "bin")
            : throw new InvalidOperationException(
                "PostgreSQL server binaries were not found under /usr/lib/postgresql; run ./build.sh test, which installs them.");
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
