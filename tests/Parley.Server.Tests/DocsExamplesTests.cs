using System.Diagnostics;
using System.Text.RegularExpressions;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The examples in docs/examples run against a fresh server with the demo brand, as a reader runs
/// them against <c>./build.sh run</c>, and print what the docs show (ids, tokens and times aside).
/// Each runs twice, after the others: an example leaves the demo as it found it.
/// </summary>
public sealed partial class DocsExamplesTests
{
    /// <summary>Example, the doc that shows its output, and the text just before that output's block.</summary>
    private static readonly (string Script, string Doc, string Heading)[] Examples =
    [
        ("protocol-session.mjs", "protocol.md", "## A worked session"),
        ("routing.mjs", "routing.md", "## Trying it"),
        ("mid-chat.mjs", "authentication.md", "(examples/mid-chat.mjs)"),
    ];

    [Fact]
    public async Task Every_example_prints_what_its_doc_shows_and_leaves_the_demo_as_it_found_it()
    {
        // The demo brand's issuer and endpoints are absolute URLs, so this server listens on a known port.
        var port = PostgresServer.FreePort();
        await using var server = await TestServer.StartAsync($"--urls=http://127.0.0.1:{port}", $"--Parley:Demo:AllowedOrigins:0=http://127.0.0.1:{port}");
        var baseUrl = $"http://127.0.0.1:{port}";
        foreach (var round in new[] { "first run", "second run" })
        {
            foreach (var (script, doc, heading) in Examples)
            {
                var output = await RunAsync(script, baseUrl);
                var documented = DocumentedOutput(doc, heading);
                Assert.True(Normalize(documented) == Normalize(output.Replace(baseUrl, "http://localhost:5080", StringComparison.Ordinal)),
                    $"docs/examples/{script} ({round}) no longer prints what docs/{doc} shows. It printed:\n{output}");
            }
        }
    }

    [Fact]
    public void The_normalization_keeps_what_matters()
    {
        // Two runs differ in ids, tokens and times only; a member more or less is a difference.
        const string a = """{"id":"494ee0a7-2c81-48b8-ab4a-a47816902493","token":"pvt_-t4YBPe","at":"2026-11-21T06:17:05.3148368+00:00"}""";
        const string b = """{"id":"ff652715-7f07-4ce8-a8cb-232773870515","token":"pvt_b1sRQel","at":"2026-12-07T13:02:19.584664+00:00"}""";
        Assert.Equal(Normalize(a), Normalize(b));
        Assert.NotEqual(Normalize(a), Normalize(b.Replace("}", ""","authenticated":false}""", StringComparison.Ordinal)));
        Assert.NotEqual(Normalize(a + "\n" + a), Normalize(a + "\n" + b.Replace("ff652715", "aaaaaaaa", StringComparison.Ordinal)));
    }

    private static async Task<string> RunAsync(string script, string baseUrl)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add("--experimental-websocket");
        start.ArgumentList.Add("--no-warnings");
        start.ArgumentList.Add(Path.Combine("docs", "examples", script));
        start.Environment["PARLEY_URL"] = baseUrl;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"docs/examples/{script} did not finish within 60 s. Output so far:\n{await output}");
        }

        Assert.True(process.ExitCode == 0, $"docs/examples/{script} exited with {process.ExitCode}:\n{await output}\n{await error}");
        return await output;
    }

    /// <summary>The first <c>```text</c> block after <paramref name="heading"/> in docs/<paramref name="doc"/>.</summary>
    internal static string DocumentedOutput(string doc, string heading)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", doc));
        var at = text.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(at >= 0, $"docs/{doc} has no \"{heading}\".");
        var open = text.IndexOf("```text\n", at, StringComparison.Ordinal) + "```text\n".Length;
        var close = text.IndexOf("\n```", open, StringComparison.Ordinal);
        return text[open..close];
    }

    /// <summary>
    /// A transcript with its ids numbered in order of first appearance, tokens and times elided, and
    /// line ends trimmed: two runs of an example differ in nothing else.
    /// </summary>
    internal static string Normalize(string transcript)
    {
        var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var text = Uuid().Replace(transcript, m => $"<id{(ids.TryGetValue(m.Value, out var n) ? n : ids[m.Value] = ids.Count + 1)}>");
        text = Token().Replace(text, "$1_…");
        text = Time().Replace(text, "<time>");
        return string.Join('\n', text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0));
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex Uuid();

    [GeneratedRegex("(pvt|pat)_[A-Za-z0-9_-]+")]
    private static partial Regex Token();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)")]
    private static partial Regex Time();
}
