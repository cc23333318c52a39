using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Api.Redis;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Feedback.Api.Operations;

internal static class HealthEndpoints
{
    /// <summary>A write this recent, committed or refused, answers for the store without a probe.</summary>
    private static readonly TimeSpan RecentWrite = TimeSpan.FromSeconds(10);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", CheckAsync)
            .WithName("Health")
            .WithSummary("Whether the service can classify and store; 503 when the store cannot take writes.")
            .AllowAnonymous();
        return app;
    }

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> CheckAsync(
        StoreHealth store, IFeedbackStore writer, Analyzer analyzer, IServiceProvider services, CancellationToken cancellationToken)
    {
        var database = store.Recent(RecentWrite) ?? await ProbeAsync(writer, cancellationToken);
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

    private static async Task<bool> ProbeAsync(IFeedbackStore writer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            return await writer.ProbeAsync(timeout.Token);
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
