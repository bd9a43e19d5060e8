using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Parley.Storage;

namespace Parley.Operations;

/// <summary>Where Parley's metrics and traces go (<c>Parley:Telemetry</c>, docs/operations.md).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Parley:Telemetry";

    /// <summary>Serve the Prometheus scrape endpoint <c>/metrics</c> (default on; see <see cref="MetricsPort"/>).</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// When set, <c>/metrics</c> answers only on this port (add it to the server's URLs, e.g.
    /// <c>http://127.0.0.1:9464</c>, and keep it off the public network). When not set, it answers
    /// only requests from the machine itself that came through no proxy.
    /// </summary>
    public int? MetricsPort { get; set; }

    /// <summary>An OTLP collector (gRPC, e.g. <c>http://otel-collector:4317</c>) for metrics and traces; <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> works too.</summary>
    public string? OtlpEndpoint { get; set; }
}

public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        services.Configure<TelemetryOptions>(configuration.GetSection(TelemetryOptions.Section));
        services.AddMetrics();
        services.AddSingleton<ParleyMetrics>();
        services.AddHostedService<QueueFiguresReader>();
        var otlp = options.OtlpEndpoint ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("parley"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ParleyMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel").AddNpgsqlInstrumentation();
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp is { Length: > 0 })
                {
                    metrics.AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp));
                }
            });
        telemetry.WithTracing(tracing =>
        {
            // Spans carry routes, frame types, counts and status codes; never a query string's values, a header, a token or a message.
            tracing.AddSource(ParleyMetrics.MeterName)
                .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = context => context.Request.Path != MetricsPath)
                .AddNpgsql();
            if (otlp is { Length: > 0 })
            {
                tracing.AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp));
            }
        });
        return services;
    }

    /// <summary>The Prometheus scrape endpoint, on the metrics port or for local requests only (never the public by default).</summary>
    public static IApplicationBuilder UseMetricsEndpoint(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        return options.Prometheus
            ? app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == MetricsPath && MayScrape(context, options))
            : app;
    }

    private static bool MayScrape(HttpContext context, TelemetryOptions options) => options.MetricsPort is { } port
        ? context.Connection.LocalPort == port
        : context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote) && !ProxyHeaders.Any(context.Request.Headers.ContainsKey);

    /// <summary>Headers a reverse proxy adds: a request with any of them came from elsewhere, whatever its socket says.</summary>
    private static readonly string[] ProxyHeaders = ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"];
}

/// <summary>Reads the waiting conversations every 15 seconds for the gauges (a scrape never queries the database).</summary>
internal sealed partial class QueueFiguresReader(IRoutingStore routingStore, ParleyMetrics metrics, TimeProvider time, ILogger<QueueFiguresReader> logger) : BackgroundService
{
    private volatile QueueFigures _figures = new(0, 0);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObserveQueues(() => _figures);
        return Housekeeping.EveryAsync(TimeSpan.FromSeconds(15), time, async ct =>
        {
            var now = time.GetUtcNow();
            var queues = await routingStore.GetQueueStatisticsAsync(null, now, ct);
            var oldest = queues.Where(q => q.OldestQueuedAt is not null).Select(q => q.OldestQueuedAt!.Value).DefaultIfEmpty(now).Min();
            _figures = new QueueFigures(queues.Sum(q => (long)q.Waiting), Math.Max(0, (now - oldest).TotalSeconds));
        }, exception => LogFailed(logger, exception.GetType().Name), stoppingToken);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Debug, Message = "The waiting figures were not read: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
