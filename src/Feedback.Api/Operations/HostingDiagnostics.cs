namespace Feedback.Api.Operations;

/// <summary>
/// ASP.NET Core's hosting layer starts an <see cref="System.Diagnostics.Activity"/> and opens a log scope for every
/// request whenever its own logger is enabled at any level, Critical included, where it never writes anything. Both
/// are for others to use: the JSON log prints the scope's request and trace ids on every line, and exported traces
/// start from the Activity. In the text log (which prints no scopes) with no traces exported, nobody does, yet they
/// were a sixth of what a POST /feedback allocated (bench/RESULTS.md). There the hosting's logger is switched off, unless
/// its own lines (request starting and finished, at Information) were asked for.
/// </summary>
/// <remarks>
/// Without the Activity, problem details carry the request's own identifier as <c>traceId</c>, the one the request log
/// line shows, so an error answer can be found in the log.
/// </remarks>
internal static class HostingDiagnostics
{
    private const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static void SwitchOffWhenUnused(ILoggingBuilder logging, IConfiguration configuration, OperationsOptions settings)
    {
        var tracesExported = settings.MetricsEnabled && !string.IsNullOrWhiteSpace(configuration[Telemetry.OtlpEndpointSetting]);
        if (settings.LogFormat == "json" || tracesExported || ConfiguredLevel(configuration) <= LogLevel.Information)
        {
            return;
        }

        logging.AddFilter(Category, LogLevel.None);
    }

    /// <summary>The level configured for the hosting's category: its own, or that of the closest category above it, or the default.</summary>
    private static LogLevel ConfiguredLevel(IConfiguration configuration)
    {
        for (var name = Category; name.Length > 0; name = name.Contains('.', StringComparison.Ordinal) ? name[..name.LastIndexOf('.')] : "")
        {
            if (Enum.TryParse<LogLevel>(configuration[$"Logging:LogLevel:{name}"], ignoreCase: true, out var level))
            {
                return level;
            }
        }

        return Enum.TryParse<LogLevel>(configuration["Logging:LogLevel:Default"], ignoreCase: true, out var fallback) ? fallback : LogLevel.Information;
    }
}
