namespace Parley.Load;

/// <summary>What one run does. See <c>--help</c> and docs/benchmarks.md.</summary>
public sealed record LoadOptions
{
    /// <summary><c>throughput</c>, <c>latency</c> (fixed rate), <c>idle</c> (connections held) or <c>sessions</c> (logins with JWTs).</summary>
    public string Scenario { get; init; } = "throughput";

    /// <summary><c>sqlite</c>, <c>postgres</c>, <c>postgres2</c> (two nodes) or <c>baseline</c> (the relay: no auth, no storage).</summary>
    public string Target { get; init; } = "sqlite";

    public int Consumers { get; init; } = 200;

    public int Agents { get; init; } = 20;

    /// <summary>Fraction of consumers that log in with a signed JWT; the rest are anonymous.</summary>
    public double Authenticated { get; init; } = 0.5;

    /// <summary>Messages per second across all consumers (latency scenario); 0: as fast as possible.</summary>
    public int Rate { get; init; }

    /// <summary>Messages a consumer may have sent and not yet seen acknowledged (throughput scenario).</summary>
    public int Window { get; init; } = 16;

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Connections to open in the idle scenario.</summary>
    public int Idle { get; init; } = 20_000;

    /// <summary>Concurrent session requests in the sessions scenario.</summary>
    public int Concurrency { get; init; } = 16;

    public bool Json { get; init; }

    /// <summary>Which run on the same server this is: logged-in consumers of another run are other customers.</summary>
    public int Run { get; init; }
}
