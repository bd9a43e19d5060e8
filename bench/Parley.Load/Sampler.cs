using System.Diagnostics;

namespace Parley.Load;

/// <summary>The server processes' CPU time and resident memory, read from /proc.</summary>
public static class Sampler
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>CPU seconds (user + system) used so far by the processes.</summary>
    public static double CpuSeconds(IEnumerable<Process> processes) =>
        processes.Sum(p =>
        {
            var stat = File.ReadAllText($"/proc/{p.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond; // utime, stime
        });

    /// <summary>Resident memory of the processes, in bytes.</summary>
    public static long RssBytes(IEnumerable<Process> processes) =>
        processes.Sum(p => File.ReadLines($"/proc/{p.Id}/status")
            .Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024)
            .FirstOrDefault());
}
