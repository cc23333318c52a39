using Feedback.Analysis;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Feedback.Api.Operations;

internal static class Telemetry
{
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
                // The runtime's own meter: heap size, allocations, GC pauses, thread pool queue; read only when scraped. Three
                // of its gauges end in "_count" once in Prometheus form, which the exposition format keeps for histograms
                // and summaries (promtool refuses them); they are the least useful ones, so they are left out.
                .AddMeter("System.Runtime")
                .AddView("dotnet.assembly.count", MetricStreamConfiguration.Drop)
                .AddView("dotnet.process.cpu.count", MetricStreamConfiguration.Drop)
                .AddView("dotnet.timer.count", MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => context.Request.Path != "/metrics")
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        }

        return services;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        // The analysis meter (cache hits and misses among its series) is otherwise only created with the LLM
        // client, so a deployment without an LLM would export no cache series at all.
        app.ServiceProvider.GetRequiredService<AnalysisMetrics>();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
