using System.Diagnostics;
using System.Text.Json;

namespace Parley.Identity.Tests;

/// <summary>Runs a script of tests/interop (independent JOSE / OpenID implementations from npm) and returns its JSON output.</summary>
internal static class Interop
{
    public static string Directory => Parley.Testing.RepositoryPaths.Interop;

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
