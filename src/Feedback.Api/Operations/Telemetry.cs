using System.Diagnostics.Metrics;
using Feedback.Analysis;
using Feedback.Analysis.Llm;
using Npgsql;
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
    /// Metrics for Prometheus at /metrics (the service's meters, ASP.NET Core's and the runtime's). When
    /// OTEL_EXPORTER_OTLP_ENDPOINT names a collector, the same metrics are also pushed over OTLP, with traces of the
    /// requests, their outgoing HTTP calls (LLM, Slack, webhooks), their PostgreSQL statements (Npgsql's own
    /// instrumentation) and the LLM calls as GenAI spans (Microsoft.Extensions.AI's, without the customer's text).
    /// The exporters read the rest of the standard OTEL_* settings (protocol, headers, export interval) themselves.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("feedback"))
            .WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(FeedbackMetrics.MeterName, AnalysisMetrics.MeterName, "Feedback.Alerts", LlmClassifier.TelemetrySource)
                    .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting")
                    // The runtime's own meter: heap size, allocations, GC pauses, thread pool queue; read only when scraped.
                    .AddMeter("System.Runtime")
                    .AddView(StreamFor)
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => context.Request.Path != "/metrics")
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource(LlmClassifier.TelemetrySource)
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
        // Measurements taken before the meter provider listens are lost, so it is built first (the host would build it
        // at start); then the series the contract names are put at 0.
        app.ServiceProvider.GetRequiredService<MeterProvider>();
        var analysis = app.ServiceProvider.GetRequiredService<AnalysisMetrics>();
        var llm = app.ServiceProvider.GetRequiredService<LlmSettings>();
        var taxonomy = app.ServiceProvider.GetRequiredService<Taxonomy>();
        app.ServiceProvider.GetRequiredService<FeedbackMetrics>().Prime(
            Enum.GetValues<Sentiment>().Select(WireNames.Of), taxonomy.Topics.Select(t => t.Name), llm.AiConfigured);
        if (llm.AiConfigured)
        {
            analysis.PrimeLlm();
        }

        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
