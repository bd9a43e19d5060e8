using System.Diagnostics;
using System.Text;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// Runs one scenario of a script in <c>tests/browser</c> (Playwright on Debian's Chromium) against
/// a Parley process; the script exits non-zero with the reason when a step fails.
/// </summary>
public static class BrowserScenario
{
    /// <summary>Runs one scenario; <paramref name="restart"/> is called when the scenario asks for a server restart.</summary>
    public static async Task RunAsync(string script, string scenario, ServerProcess server, Func<Task>? restart = null)
    {
        var directory = RepositoryPaths.Browser;
        Assert.True(File.Exists("/usr/bin/chromium"), "Debian's chromium is missing: ./build.sh test installs it.");
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "axe-core")), "tests/browser/node_modules is missing: ./build.sh test runs npm ci there.");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--experimental-websocket", script, server.Address.ToString().TrimEnd('/'), scenario })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                output.AppendLine(line);
                if (line == "RESTART" && restart is not null)
                {
                    await restart();
                    await process.StandardInput.WriteLineAsync("restarted");
                    process.StandardInput.Close();
                }
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the {scenario} scenario did not finish within 3 minutes: {output}");
        }

        Assert.True(process.ExitCode == 0, $"the {scenario} scenario failed: {await error}{output}");
    }
}
