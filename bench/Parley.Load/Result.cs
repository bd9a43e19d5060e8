namespace Parley.Load;

/// <summary>One run's figures. Latencies in milliseconds.</summary>
public sealed record Result
{
    public required string Scenario { get; init; }

    public required string Target { get; init; }

    public string Setup { get; init; } = "";

    public double DeliveredPerSecond { get; init; }

    public double SentPerSecond { get; init; }

    public Percentiles? EndToEnd { get; init; }

    public Percentiles? Ack { get; init; }

    public long Errors { get; init; }

    public double ServerCpuPercent { get; init; }

    public double ServerRssMegabytes { get; init; }

    public int Connections { get; init; }

    public double BytesPerConnection { get; init; }

    /// <summary>The growth per connection over the second half of the idle connections: what one more costs.</summary>
    public double MarginalBytesPerConnection { get; init; }

    public double SessionsPerSecond { get; init; }

    public double RawVerifyPerSecond { get; init; }

    public string Note { get; init; } = "";
}

public sealed record Percentiles(double P50, double P95, double P99, double Max, long Count)
{
    public static Percentiles? Of(List<double> samples)
    {
        if (samples.Count == 0)
        {
            return null;
        }

        samples.Sort();
        double At(double q) => samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return new Percentiles(At(0.50), At(0.95), At(0.99), samples[^1], samples.Count);
    }

    public override string ToString() => $"{P50:0.00} / {P95:0.00} / {P99:0.00} / {Max:0.0}";
}
