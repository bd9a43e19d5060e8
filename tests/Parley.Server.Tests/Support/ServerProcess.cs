using System.Diagnostics;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>Parley as a separate OS process (the same binary as production), so a test can SIGKILL it.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly string[] _settings;
    private Process? _process;

    public ServerProcess(string workingDirectory, params string[] settings)
        : this(workingDirectory, _ => settings)
    {
    }

    /// <summary>Settings that depend on the port this server will listen on (e.g. the demo's allowed origin).</summary>
    public ServerProcess(string workingDirectory, Func<int, IEnumerable<string>> settings)
    {
        WorkingDirectory = workingDirectory;
        Port = PostgresServer.FreePort();
        _settings = settings(Port).ToArray();
    }

    public string WorkingDirectory { get; }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Parley.Server.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{Port}");
        start.ArgumentList.Add("--Parley:Demo:Enabled=true");
        start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        foreach (var setting in GenerousLimits.Settings.Concat(_settings))
        {
            start.ArgumentList.Add(setting);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        _process = Process.Start(start)!;

        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Parley exited with {_process.ExitCode} during start.");
            }

            try
            {
                if ((await http.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Parley did not become ready within 30 s.");
    }

    /// <summary>SIGTERM, as a service manager or an orchestrator stops a node; waits for the exit and says how long it took.</summary>
    public async Task<TimeSpan> TerminateAsync()
    {
        var process = Interlocked.Exchange(ref _process, null) ?? throw new InvalidOperationException("Not running.");
        var started = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync();
        var took = started.Elapsed;
        process.Dispose();
        return took;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, nothing graceful.</summary>
    public async Task KillAsync()
    {
        var process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
    }
}
