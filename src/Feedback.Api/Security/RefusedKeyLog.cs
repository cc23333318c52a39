using Feedback.Api.Operations;
using Microsoft.AspNetCore.Routing;

namespace Feedback.Api.Security;

/// <summary>
/// Requests refused for an unknown API key, logged at most once per <see cref="Interval"/> with how many were refused
/// since the last line, and named by the route's template (<c>/feedback/{id}</c>), never by the decoded path: a
/// scanner trying keys would otherwise write a line per attempt, with whatever it put in the path (a customer's id,
/// an e-mail address, text meant to forge log lines). Each refusal is still counted in the auth-failure metric.
/// </summary>
internal sealed partial class RefusedKeyLog(TimeProvider time, ILogger<RefusedKeyLog> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ReportThrottle _reports = new(time, Interval);

    public void Refused(HttpContext context)
    {
        if (_reports.Count() is not { } count)
        {
            return;
        }

        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
        LogRefused(logger, count, (int)Interval.TotalSeconds, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", context.Request.Method, route);
    }

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning,
        Message = "Refused {Count} request(s) with an unknown API key since the last report (at most one report every {Seconds} s); the latest from {RemoteAddress} for {Method} {Route}")]
    private static partial void LogRefused(ILogger logger, long count, int seconds, string remoteAddress, string method, string route);
}
