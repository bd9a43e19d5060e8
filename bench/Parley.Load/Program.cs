using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Parley.Load;

// The baseline relay runs as its own process, started by this program.
if (args.Length > 0 && args[0] == "--baseline-server")
{
    await BaselineRelay.RunAsync(args[1..]);
    return 0;
}

var scenario = new Option<string>("--scenario") { Description = "throughput | latency | idle | sessions | abuse", DefaultValueFactory = _ => "throughput" };
var targets = new Option<string>("--target") { Description = "Comma-separated: sqlite, postgres, postgres2 (two nodes), baseline", DefaultValueFactory = _ => "baseline,sqlite" };
var consumers = new Option<int>("--consumers") { Description = "Consumer connections (throughput, latency)", DefaultValueFactory = _ => 200 };
var agents = new Option<int>("--agents") { Description = "Agent connections", DefaultValueFactory = _ => 20 };
var authenticated = new Option<double>("--authenticated") { Description = "Fraction of consumers with a signed JWT", DefaultValueFactory = _ => 0.5 };
var rate = new Option<int>("--rate") { Description = "Total messages/s, replies included (latency scenario)", DefaultValueFactory = _ => 2000 };
var window = new Option<int>("--window") { Description = "Unacknowledged messages per consumer (throughput)", DefaultValueFactory = _ => 4 };
var seconds = new Option<int>("--seconds") { Description = "Measured duration", DefaultValueFactory = _ => 15 };
var idle = new Option<int>("--connections") { Description = "Connections to hold (idle scenario)", DefaultValueFactory = _ => 15_000 };
var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight (sessions scenario)", DefaultValueFactory = _ => 16 };
var runs = new Option<int>("--runs") { Description = "Runs per target, interleaved (a fresh server each); the table shows each target's median run", DefaultValueFactory = _ => 1 };
var json = new Option<bool>("--json") { Description = "Print the results as JSON" };
var root = new RootCommand("Parley load benchmark: starts the target servers on loopback, runs the scenario against each, prints a table.")
{
    scenario, targets, consumers, agents, authenticated, rate, window, seconds, idle, concurrency, runs, json,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var options = new LoadOptions
    {
        Scenario = parse.GetValue(scenario)!,
        Consumers = parse.GetValue(consumers),
        Agents = parse.GetValue(agents),
        Authenticated = parse.GetValue(authenticated),
        Rate = parse.GetValue(scenario) is "latency" or "abuse" ? parse.GetValue(rate) : 0,
        Window = parse.GetValue(window),
        Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
        Idle = parse.GetValue(idle),
        Concurrency = parse.GetValue(concurrency),
        Json = parse.GetValue(json),
    };
    var names = parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var all = new List<Result>();
    // Runs are interleaved (a, b, a, b) so that a drift of the machine during the runs hits every target alike.
    for (var run = 0; run < Math.Max(1, parse.GetValue(runs)); run++)
    {
        foreach (var name in names)
        {
            var capacity = options.Consumers / Math.Max(1, options.Agents) + 1;
            // The abuse scenario runs the messaging load twice on one server, with Parley's default limits.
            await using var target = await Target.StartAsync(
                name, options.Scenario is "idle" or "sessions" ? 0 : options.Agents, options.Scenario == "abuse" ? 2 * capacity : capacity, defaultLimits: options.Scenario == "abuse");
            await Console.Error.WriteLineAsync($"{name}: {target.Description}, {target.Nodes.Count} node(s), run {run + 1}");
            void Progress(string line) => Console.Error.WriteLine("  " + line);
            all.AddRange(options.Scenario switch
            {
                "throughput" or "latency" => [await Scenarios.MessagingAsync(target, options, name, Progress)],
                "idle" => [await Scenarios.IdleAsync(target, options, name, Progress)],
                "sessions" => [await Scenarios.SessionsAsync(target, options, name, Progress)],
                "abuse" => await Scenarios.AbuseAsync(target, options, name, Progress),
                _ => throw new ArgumentException("--scenario is throughput, latency, idle, sessions or abuse."),
            });
        }
    }

    var results = Report.Medians(all);
    if (options.Json)
    {
        Console.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
    }
    else
    {
        Report.Print(results, OpenSslRsaVerifyPerSecond(options.Scenario));
        Report.PrintRuns(all);
        Report.PrintRetries();
    }

    return 0;
});
return await root.Parse(args).InvokeAsync();

// `openssl speed rsa2048` on both cores: recorded next to the sessions figure.
static string? OpenSslRsaVerifyPerSecond(string scenario)
{
    if (scenario != "sessions")
    {
        return null;
    }

    try
    {
        var start = new ProcessStartInfo("openssl", $"speed -seconds 3 -multi {Environment.ProcessorCount} rsa2048") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("rsa 2048", StringComparison.Ordinal) || l.StartsWith("rsa  2048", StringComparison.Ordinal));
        return line?.Trim();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return null;
    }
}
