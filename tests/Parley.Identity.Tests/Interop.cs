using System.Diagnostics;
using System.Text.Json;

namespace Parley.Identity.Tests;

/// <summary>Runs a script of tests/interop (independent JOSE / OpenID implementations from npm) and returns its JSON output.</summary>
internal static class Interop
{
    public static string Directory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Parley.slnx")))
            {
                dir = dir.Parent;
            }

            return dir is null
                ? throw new InvalidOperationException("The repository root (Parley.slnx) was not found above the test binaries.")
                : Path.Combine(dir.FullName, "tests", "interop");
        }
    }

    public static async Task<JsonElement> RunAsync(string script)
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules")))
        {
            throw new InvalidOperationException("tests/interop/node_modules is missing: run ./build.sh test (it runs npm ci there).");
        }

        var start = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {script} failed: {await error}");
        }

        return JsonDocument.Parse(await output).RootElement;
    }
}
