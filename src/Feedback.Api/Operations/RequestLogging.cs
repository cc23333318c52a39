using System.Diagnostics;
using Feedback.Api.Security;
using Microsoft.AspNetCore.Routing;

namespace Feedback.Api.Operations;

/// <summary>
/// One log event per request with what an operator needs and nothing a customer wrote: request id, method,
/// route, status, latency, key name, feedback id and cache hit. Health and metrics scrapes log at Debug.
/// </summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public const string FeedbackIdItem = "feedback_id";
    public const string CacheHitItem = "cache_hit";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var quiet = context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/metrics");
            var level = quiet ? LogLevel.Debug : LogLevel.Information;
            if (logger.IsEnabled(level))
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var keyName = context.User.Identity?.IsAuthenticated == true ? context.User.KeyId() : null;
                var feedbackId = context.Items.TryGetValue(FeedbackIdItem, out var id) ? id as long? : null;
                var cacheHit = context.Items.TryGetValue(CacheHitItem, out var hit) ? hit as bool? : null;
                LogRequest(logger, level, context.TraceIdentifier, context.Request.Method, route, context.Response.StatusCode, elapsed, keyName, feedbackId, cacheHit);
            }
        }
    }

    [LoggerMessage(Message = "{Method} {Route} answered {Status} in {ElapsedMs:0.0} ms (request {RequestId}, key {KeyName}, feedback {FeedbackId}, cache hit {CacheHit})")]
    private static partial void LogRequest(
        ILogger logger, LogLevel level, string requestId, string method, string route, int status, double elapsedMs, string? keyName, long? feedbackId, bool? cacheHit);
}
