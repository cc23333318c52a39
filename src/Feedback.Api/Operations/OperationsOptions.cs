namespace Feedback.Api.Operations;

/// <summary>How the service reports on itself: the log's format and the metrics (LOG_FORMAT, METRICS_ENABLED).</summary>
internal sealed class OperationsOptions
{
    /// <summary>text (the console default) or json: one JSON object a line.</summary>
    [ConfigurationKeyName("LOG_FORMAT")]
    public string LogFormat { get; set; } = "text";

    /// <summary>Prometheus metrics at /metrics (and OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set).</summary>
    [ConfigurationKeyName("METRICS_ENABLED")]
    public bool MetricsEnabled { get; set; } = true;

    public IReadOnlyList<string> Failures() =>
        LogFormat is "text" or "json" ? [] : [$"LOG_FORMAT must be text or json (got '{LogFormat}')."];
}

internal static class OperationsRegistration
{
    /// <summary>The service's own metrics, with Prometheus and OTLP export when METRICS_ENABLED; the API reference and the health checks.</summary>
    public static IHostApplicationBuilder AddOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FeedbackMetrics>();
        if (Hosting.FeatureOptions.Options<OperationsOptions>(builder).MetricsEnabled)
        {
            builder.Services.AddTelemetry(builder.Configuration);
        }

        builder.Services.AddApiDocs();
        builder.Services.AddHealth();
        return builder;
    }
}
