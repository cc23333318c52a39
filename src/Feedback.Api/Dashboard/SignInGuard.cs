using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Feedback.Api.Operations;
using Feedback.Api.Security;

namespace Feedback.Api.Dashboard;

/// <summary>
/// What stands in front of POST /dashboard/session, the one write anyone may send without a key: a token bucket per
/// client address (DASHBOARD_SIGN_INS_PER_MINUTE), and a count of failed sign-ins
/// (dashboard_sign_in_failures_total) with a warning at most once per DASHBOARD_SIGN_IN_LOG_SECONDS carrying how
/// many failed since the last one, so guessing shows in the logs without a line per guess.
/// </summary>
internal sealed partial class SignInGuard : IDisposable
{
    private readonly DashboardSettings _settings;
    private readonly ILogger<SignInGuard> _logger;
    private readonly PartitionedRateLimiter<HttpContext>? _limiter;
    private readonly Counter<long> _failures;
    private readonly ReportThrottle _reports;

    public SignInGuard(DashboardSettings settings, TimeProvider time, IMeterFactory meterFactory, ILogger<SignInGuard> logger)
    {
        _settings = settings;
        _reports = new ReportThrottle(time, TimeSpan.FromSeconds(settings.SignInFailureLogSeconds));
        _logger = logger;
        _failures = meterFactory.Create(FeedbackMetrics.MeterName).CreateCounter<long>(
            "dashboard_sign_in_failures", description: "Dashboard sign-ins refused for a missing or wrong key.");
        if (settings.SignInsPerMinute > 0)
        {
            var perMinute = settings.SignInsPerMinute;
            var refillEvery = TimeSpan.FromMinutes(1) / perMinute;

            // The framework's partitioned limiter drops a partition once its bucket is full again (IdleDuration), so
            // a stream of new addresses does not grow this without bound.
            _limiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.Get(
                ClientAddress.Partition(context), _ => new ClockTokenBucket(time, perMinute, refillEvery)));
        }
    }

    /// <summary>Null when the address may try now, else the wait until it may, for Retry-After.</summary>
    public TimeSpan? Refusal(HttpContext context)
    {
        if (_limiter is null)
        {
            return null;
        }

        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
    }

    public void Failed()
    {
        _failures.Add(1);
        if (_reports.Count() is { } count)
        {
            LogFailures(_logger, count, _settings.SignInFailureLogSeconds);
        }
    }

    public void Dispose() => _limiter?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} dashboard sign-ins failed with a missing or wrong key since the last report (at most one report every {Seconds} s)")]
    private static partial void LogFailures(ILogger logger, long count, int seconds);
}
