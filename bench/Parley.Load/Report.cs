namespace Parley.Load;

/// <summary>The final table, with each target's figure as a share of the baseline relay's when it ran too.</summary>
public static class Report
{
    public static void Print(IReadOnlyList<Result> results, string? openssl)
    {
        var baseline = results.FirstOrDefault(r => r.Target == "baseline");
        Console.WriteLine();
        Console.WriteLine($"scenario: {results[0].Scenario}; {results[0].Setup}");
        switch (results[0].Scenario)
        {
            case "idle connections":
                Console.WriteLine("| target | connections held | errors | server RSS | server memory per connection (all growth / marginal) | vs baseline (marginal) |");
                Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
                foreach (var r in results)
                {
                    Console.WriteLine($"| {r.Target} | {r.Connections:N0} | {r.Errors:N0} | {r.ServerRssMegabytes:N0} MB | {r.BytesPerConnection / 1024:N1} KB / {r.MarginalBytesPerConnection / 1024:N1} KB | {Ratio(r.MarginalBytesPerConnection, baseline?.MarginalBytesPerConnection)} |");
                }

                break;
            case "sessions with RS256 JWT":
                Console.WriteLine("| target | sessions/s | latency p50 / p95 / p99 / max (ms) | errors | server CPU | raw RS256 verify/s (all cores, in process) | sessions / raw verify |");
                Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
                foreach (var r in results)
                {
                    Console.WriteLine($"| {r.Target} | {r.SessionsPerSecond:N0} | {r.EndToEnd} | {r.Errors:N0} | {r.ServerCpuPercent:N0}% | {r.RawVerifyPerSecond:N0} | {r.SessionsPerSecond / r.RawVerifyPerSecond:P1} |");
                }

                if (openssl is not null)
                {
                    Console.WriteLine($"openssl speed rsa2048 (-multi {Environment.ProcessorCount}): {openssl}");
                }

                break;
            case "abuse":
                var alone = results.First(r => r.Note == "alone");
                Console.WriteLine("| target | run | delivered msg/s | end-to-end p50 / p95 / p99 / max (ms) | p50 vs alone | p99 vs alone | errors |");
                Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
                foreach (var r in results)
                {
                    Console.WriteLine($"| {r.Target} | {(r.Note == "alone" ? "alone" : "under flood")} | {r.DeliveredPerSecond:N0} | {r.EndToEnd} | {r.EndToEnd?.P50 / alone.EndToEnd?.P50:0.00}× | {r.EndToEnd?.P99 / alone.EndToEnd?.P99:0.00}× | {r.Errors:N0} |");
                }

                foreach (var r in results.Where(r => r.Note != "alone"))
                {
                    Console.WriteLine(r.Note);
                }

                break;
            default:
                Console.WriteLine("| target | delivered msg/s | vs baseline | end-to-end p50 / p95 / p99 / max (ms) | ack p50 / p95 / p99 / max (ms) | errors | server CPU | server RSS |");
                Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                foreach (var r in results)
                {
                    Console.WriteLine($"| {r.Target} | {r.DeliveredPerSecond:N0} | {Ratio(r.DeliveredPerSecond, baseline?.DeliveredPerSecond)} | {r.EndToEnd} | {r.Ack} | {r.Errors:N0} | {r.ServerCpuPercent:N0}% | {r.ServerRssMegabytes:N0} MB |");
                }

                break;
        }
    }

    /// <summary>
    /// Each target's median run by its main figure (delivered msg/s, sessions/s, or memory per
    /// connection), with its own latencies: figures of one run, never mixed across runs.
    /// </summary>
    public static IReadOnlyList<Result> Medians(IReadOnlyList<Result> all) =>
        [.. all.GroupBy(Key)
            .Select(g => g.OrderBy(MainFigure).ElementAt((g.Count() - 1) / 2))];

    /// <summary>When a target ran more than once, every run's main figure, so the spread shows.</summary>
    public static void PrintRuns(IReadOnlyList<Result> all)
    {
        foreach (var g in all.GroupBy(Key).Where(g => g.Count() > 1))
        {
            Console.WriteLine($"runs of {g.Key.Target}{(g.Key.Flooded ? " under flood" : "")} ({MainName(g.First())}): {string.Join(" / ", g.Select(r => MainFigure(r).ToString("N1")))}");
        }
    }

    private static (string Target, bool Flooded) Key(Result r) => (r.Target, r.Scenario == "abuse" && r.Note != "alone");

    private static double MainFigure(Result r) => r.Scenario switch
    {
        "idle connections" => r.MarginalBytesPerConnection / 1024,
        "sessions with RS256 JWT" => r.SessionsPerSecond,
        _ => r.DeliveredPerSecond,
    };

    private static string MainName(Result r) => r.Scenario switch
    {
        "idle connections" => "KB per connection, marginal",
        "sessions with RS256 JWT" => "sessions/s",
        _ => "delivered msg/s",
    };

    public static void PrintRetries()
    {
        if (Scenarios.SessionRetries > 0)
        {
            Console.WriteLine($"session requests answered 503 (storage busy) and retried: {Scenarios.SessionRetries:N0}");
        }
    }

    /// <summary>The figures of <c>--scenario all</c> against the targets of issue 9, each with whether it is met.</summary>
    public static void PrintTargets(IReadOnlyList<Result> results)
    {
        var throughput = results.Where(r => r.Scenario == "throughput").ToList();
        var baseline = throughput.FirstOrDefault(r => r.Target == "baseline")?.DeliveredPerSecond;
        var stored = throughput.Where(r => r.Target != "baseline").ToList();
        var latency = results.Where(r => r.Scenario.StartsWith("latency", StringComparison.Ordinal) && r.Target != "baseline").ToList();
        var idle = results.Where(r => r.Scenario == "idle connections" && r.Target != "baseline").ToList();
        var sessions = results.Where(r => r.Scenario == "sessions with RS256 JWT").ToList();

        Console.WriteLine();
        Console.WriteLine("against the targets of issue 9:");
        Console.WriteLine("| target | measured | met? |");
        Console.WriteLine("| --- | --- | --- |");
        Row("≥ 50 % of the baseline relay's throughput, persistence on", stored,
            r => Ratio(r.DeliveredPerSecond, baseline), r => baseline is > 0 && r.DeliveredPerSecond >= baseline.Value / 2);
        Row("≥ 20,000 delivered messages/s, persistence on", stored,
            r => $"{r.DeliveredPerSecond:N0} msg/s", r => r.DeliveredPerSecond >= 20_000);
        Row("p99 end-to-end < 25 ms at 2,000 msg/s", latency,
            r => $"{r.EndToEnd?.P99:N2} ms", r => r.EndToEnd is { P99: < 25 } && r.DeliveredPerSecond >= 0.95 * 2_000);
        Row("≤ 20 KB of server memory per idle connection (marginal; all growth in brackets)", idle,
            r => $"{r.MarginalBytesPerConnection / 1024:N1} KB ({r.BytesPerConnection / 1024:N1} KB)", r => r.MarginalBytesPerConnection <= 20 * 1024);
        Row("20,000 idle connections held", idle,
            r => $"{r.Connections:N0} held of {r.Connections + r.Errors:N0} asked for", r => r.Connections >= 20_000);
        Row("sessions with RS256 validation ≥ 60 % of raw RSA verify", sessions,
            r => $"{r.SessionsPerSecond:N0}/s = {r.SessionsPerSecond / r.RawVerifyPerSecond:P1} of {r.RawVerifyPerSecond:N0}/s", r => r.SessionsPerSecond >= 0.6 * r.RawVerifyPerSecond);

        static void Row(string target, List<Result> rows, Func<Result, string> measured, Func<Result, bool> met)
        {
            if (rows.Count > 0)
            {
                Console.WriteLine($"| {target} | {string.Join("; ", rows.Select(r => $"{r.Target} {measured(r)}"))} | {string.Join("; ", rows.Select(r => $"{r.Target} {(met(r) ? "yes" : "no")}"))} |");
            }
        }
    }

    private static string Ratio(double value, double? baseline) => baseline is > 0 ? $"{value / baseline.Value:P0}" : "—";
}
