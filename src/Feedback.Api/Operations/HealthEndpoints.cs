using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Api.Redis;
using Feedback.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Feedback.Api.Operations;

/// <summary>
/// <c>/health</c>, the contract's report for people and dashboards, and, for orchestrators, <c>/health/live</c> (the
/// process answers: restart it when not) and <c>/health/ready</c> (the store takes writes and has every migration:
/// send it traffic only then), on ASP.NET Core's health checks.
/// </summary>
internal static class HealthEndpoints
{
    /// <summary>A write this recent, committed or refused, answers for the store without a probe.</summary>
    internal static readonly TimeSpan RecentWrite = TimeSpan.FromSeconds(10);

    private const string Ready = "ready";

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StoreWritableCheck>("store_writable", tags: [Ready])
            .AddCheck<MigrationsAppliedCheck>("migrations_applied", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", CheckAsync)
            .WithName("Health")
            .WithTags("Health")
            .WithSummary("Whether the service can classify and store; 503 when the store cannot take writes.")
            .AllowAnonymous();

        // No check at all: an answer is the proof of life, and a busy store must not get a live process restarted.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithName("HealthLive")
            .AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .WithName("HealthReady")
            .AllowAnonymous();
        return app;
    }

    /// <summary><c>{"status": "healthy", "checks": {"store_writable": "healthy", ...}}</c>; 503 unless healthy.</summary>
    private static Task WriteAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();
        return context.Response.WriteAsJsonAsync(new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["status"] = Name(report.Status),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => Name(e.Value.Status), StringComparer.Ordinal),
        });
    }

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> CheckAsync(
        StoreHealth store, IFeedbackStore writer, Analyzer analyzer, IServiceProvider services, CancellationToken cancellationToken)
    {
        var database = store.Recent(RecentWrite) ?? await ProbeAsync(writer, services.GetRequiredService<TimeProvider>(), cancellationToken);
        var mlFallback = analyzer.LocalVersion.Length > 0;

        // Redis down is degraded, not down: every instance goes on answering alone.
        var redis = services.GetService<RedisLink>();

        // Loading is not degraded: answers are the lexical model's, provisional, until the encoder is ready.
        var encoder = analyzer.Deep is not { } deep ? "disabled" : deep.LoadError is not null ? "unavailable" : deep.IsReady ? "ready" : "loading";
        var report = new HealthReport(
            database && mlFallback && analyzer.Ai?.Circuit.IsOpen != true && redis?.Healthy != false && encoder != "unavailable" ? "ok" : "degraded",
            analyzer.Ai is null ? "disabled" : analyzer.Ai.Circuit.IsOpen ? "degraded" : "healthy",
            mlFallback ? "available" : "unavailable",
            database ? "ok" : "unavailable",
            redis is null ? "disabled" : redis.Healthy ? "ok" : "degraded",
            analyzer.LocalVersion,
            encoder);
        return database
            ? TypedResults.Ok(report)
            : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<bool> ProbeAsync(IFeedbackStore writer, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            return await writer.ProbeAsync(time.GetUtcNow().UtcDateTime, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    internal sealed record HealthReport(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("ai_provider")] string AiProvider,
        [property: JsonPropertyName("ml_fallback")] string MlFallback,
        [property: JsonPropertyName("database")] string Database,
        [property: JsonPropertyName("redis")] string Redis,
        [property: JsonPropertyName("classifier")] string Classifier,
        [property: JsonPropertyName("encoder")] string Encoder);
}
