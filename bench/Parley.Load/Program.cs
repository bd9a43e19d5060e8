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

var scenario = new Option<string>("--scenario")
{
    Description = "throughput | latency | idle | sessions | abuse | all (the first four, each on its usual targets, then the issue's targets met or not)",
    DefaultValueFactory = _ => "throughput",
};
var targets = new Option<string>("--target") { Description = "Comma-separated: sqlite, postgres, postgres2 (two nodes), baseline (with all: the targets of every scenario)", DefaultValueFactory = _ => "baseline,sqlite" };
var consumers = new Option<int>("--consumers") { Description = "Consumer connections (throughput, latency)", DefaultValueFactory = _ => 200 };
var agents = new Option<int>("--agents") { Description = "Agent connections", DefaultValueFactory = _ => 20 };
var authenticated = new Option<double>("--authenticated") { Description = "Fraction of consumers with a signed JWT", DefaultValueFactory = _ => 0.5 };
var rate = new Option<int>("--rate") { Description = "Total messages/s, replies included (latency scenario)", DefaultValueFactory = _ => 2000 };
var window = new Option<int>("--window") { Description = "Unacknowledged messages per consumer (throughput): enough to keep the server busy", DefaultValueFactory = _ => 16 };
var seconds = new Option<int>("--seconds") { Description = "Measured duration", DefaultValueFactory = _ => 15 };
var idle = new Option<int>("--connections") { Description = "Connections to hold (idle scenario)", DefaultValueFactory = _ => 15_000 };
var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight (sessions scenario)", DefaultValueFactory = _ => 16 };
var runs = new Option<int>("--runs") { Description = "Runs per target, interleaved (a fresh server each); the table shows each target's median run (with all: of the throughput and idle scenarios, whose figures move most between runs)", DefaultValueFactory = _ => 1 };
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
        Window = parse.GetValue(window),
        Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
        Idle = parse.GetValue(idle),
        Concurrency = parse.GetValue(concurrency),
        Json = parse.GetValue(json),
    };
    var names = parse.GetValue(targets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var explicitTargets = parse.GetResult(targets) is { Implicit: false };

    // One scenario, or all four in turn, each on the targets docs/benchmarks.md names for it.
    (string Scenario, string[] Targets, int Runs)[] plan = options.Scenario == "all"
        ?
        [
            ("throughput", explicitTargets ? names : ["baseline", "sqlite", "postgres", "postgres2"], parse.GetValue(runs)),
            ("latency", explicitTargets ? names : ["baseline", "sqlite", "postgres", "postgres2"], 1),
            ("sessions", explicitTargets ? names.Where(n => n != "baseline").ToArray() : ["sqlite", "postgres"], 1),
            ("idle", explicitTargets ? names : ["baseline", "sqlite"], parse.GetValue(runs)),
        ]
        : [(options.Scenario, names, parse.GetValue(runs))];

    var medians = new List<Result>();
    foreach (var (name, targetNames, runCount) in plan)
    {
        var step = options with { Scenario = name, Rate = name is "latency" or "abuse" ? parse.GetValue(rate) : 0 };
        var all = await RunAsync(step, targetNames, runCount);
        var results = Report.Medians(all);
        medians.AddRange(results);
        if (!options.Json)
        {
            Report.Print(results, OpenSslRsaVerifyPerSecond(name));
            Report.PrintRuns(all);
            Report.PrintRetries();
        }
    }

    if (options.Json)
    {
        Console.WriteLine(JsonSerializer.Serialize(medians, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }));
    }
    else if (options.Scenario == "all")
    {
        Report.PrintTargets(medians);
    }

    return 0;
});
return await root.Parse(args).InvokeAsync();

// Runs are interleaved (a, b, a, b) so that a drift of the machine during the runs hits every target alike.
static async Task<List<Result>> RunAsync(LoadOptions options, string[] names, int runs)
{
    var all = new List<Result>();
    for (var run = 0; run < Math.Max(1, runs); run++)
    {
        foreach (var name in names)
        {
            var capacity = options.Consumers / Math.Max(1, options.Agents) + 1;
            // The abuse scenario runs the messaging load twice on one server, with Parley's default limits.
            await using var target = await Target.StartAsync(
                name, options.Scenario is "idle" or "sessions" ? 0 : options.Agents, options.Scenario == "abuse" ? 2 * capacity : capacity, defaultLimits: options.Scenario == "abuse");
            await Console.Error.WriteLineAsync($"{options.Scenario} {name}: {target.Description}, {target.Nodes.Count} node(s), run {run + 1}");
            void Progress(string line) => Console.Error.WriteLine("  " + line);
            all.AddRange(options.Scenario switch
            {
                "throughput" or "latency" => [await Scenarios.MessagingAsync(target, options, name, Progress)],
                "idle" => [await Scenarios.IdleAsync(target, options, name, Progress)],
                "sessions" => [await Scenarios.SessionsAsync(target, options, name, Progress)],
                "abuse" => await Scenarios.AbuseAsync(target, options, name, Progress),
                _ => throw new ArgumentException("--scenario is throughput, latency, idle, sessions, abuse or all."),
            });
        }
    }

    return all;
}

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
