using System.Diagnostics.Metrics;
using Feedback.Analysis;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Feedback.Api.Operations;

internal static class Telemetry
{
    /// <summary>Traces are exported over OTLP when this setting names a collector.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private const int MaxSeriesPerMetric = 500;

    /// <summary>
    /// Metrics for Prometheus at /metrics (the service's meters and ASP.NET Core's own), and traces sent over
    /// OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("feedback"))
            .WithMetrics(metrics => metrics
                .AddMeter(FeedbackMetrics.MeterName, AnalysisMetrics.MeterName, "Feedback.Alerts")
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting")
                // The runtime's own meter: heap size, allocations, GC pauses, thread pool queue; read only when scraped.
                .AddMeter("System.Runtime")
                .AddView(StreamFor)
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]))
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => context.Request.Path != "/metrics")
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }

        return services;
    }

    /// <summary>
    /// One view for every instrument (when several views match, each makes a stream of its own). Three of the runtime's
    /// gauges end in "_count" once in Prometheus form, which the exposition format keeps for histograms and summaries
    /// (promtool refuses them); they are the least useful ones, so they are left out. Every other stream would reserve
    /// room for 2,000 label combinations up front, resident memory for points never used: the most any series here can
    /// have is a few hundred (routes x methods x status codes).
    /// </summary>
    private static MetricStreamConfiguration StreamFor(Instrument instrument) => instrument.Name switch
    {
        "dotnet.assembly.count" or "dotnet.process.cpu.count" or "dotnet.timer.count" when instrument.Meter.Name == "System.Runtime"
            => MetricStreamConfiguration.Drop,
        _ when instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(Histogram<>)
            => new HistogramConfiguration { CardinalityLimit = MaxSeriesPerMetric },
        _ => new MetricStreamConfiguration { CardinalityLimit = MaxSeriesPerMetric },
    };

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        // The analysis meter (cache hits and misses among its series) is otherwise only created with the LLM
        // client, so a deployment without an LLM would export no cache series at all.
        app.ServiceProvider.GetRequiredService<AnalysisMetrics>();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
