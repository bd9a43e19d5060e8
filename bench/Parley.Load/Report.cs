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

    private static string Ratio(double value, double? baseline) => baseline is > 0 ? $"{value / baseline.Value:P0}" : "—";
}
