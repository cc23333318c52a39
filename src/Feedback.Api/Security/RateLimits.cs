using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Feedback.Api.Redis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Feedback.Api.Security;

/// <summary>
/// A token bucket driven by a <see cref="TimeProvider"/>, so tests move its clock: <c>capacity</c> tokens,
/// one more every <c>refillEvery</c>. Rejections carry the wait until the next token as Retry-After.
/// </summary>
internal sealed class ClockTokenBucket(TimeProvider time, int capacity, TimeSpan refillEvery) : RateLimiter
{
    private readonly Lock _gate = new();
    private double _tokens = capacity;
    private long _refilledAt = time.GetTimestamp();
    private long? _fullSince;

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return _fullSince is { } since ? time.GetElapsedTime(since) : null;
            }
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (_gate)
        {
            Refill();
            return new RateLimiterStatistics { CurrentAvailablePermits = (long)_tokens };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_gate)
        {
            Refill();
            if (_tokens >= permitCount)
            {
                _tokens -= permitCount;
                _fullSince = null;
                return BucketLease.Granted;
            }

            var wait = TimeSpan.FromTicks((long)Math.Ceiling((permitCount - _tokens) * refillEvery.Ticks));
            return new BucketLease(false, wait);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = time.GetTimestamp();
        var gained = time.GetElapsedTime(_refilledAt, now) / refillEvery;
        if (gained <= 0)
        {
            return;
        }

        _tokens = Math.Min(capacity, _tokens + gained);
        _refilledAt = now;
        if (_tokens >= capacity)
        {
            _fullSince ??= now;
        }
    }
}

/// <summary>A token bucket's answer: granted, or refused with the wait until enough tokens as Retry-After.</summary>
internal sealed class BucketLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
{
    public static readonly BucketLease Granted = new(true, null);

    public override bool IsAcquired => acquired;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
        return metadata is not null;
    }
}

internal static class RateLimits
{
    public const string PerKey = "per-key";

    /// <summary>
    /// Per-key token buckets (RATE_LIMIT_PER_MINUTE, burst of the same size; 0 turns them off): 429 with
    /// Retry-After and a problem body when a key is over its limit. With REDIS_URL the bucket lives in Redis,
    /// so the limit holds across instances; without Redis (or while it is down) each instance counts alone.
    /// </summary>
    public static IServiceCollection AddKeyRateLimits(this IServiceCollection services)
    {
        services.AddSingleton<KeyBuckets>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(PerKey, context =>
            {
                var buckets = context.RequestServices.GetRequiredService<KeyBuckets>();
                return buckets.Enabled
                    ? RateLimitPartition.Get(context.User.KeyId(), buckets.For)
                    : RateLimitPartition.GetNoLimiter("unlimited");
            });
            options.OnRejected = (context, _) => new ValueTask(Rejected(context.HttpContext, context.Lease, context.HttpContext.RequestServices.GetRequiredService<KeyBuckets>().PerMinute).ExecuteAsync(context.HttpContext));
        });
        return services;
    }

    /// <summary>The 429 for a refused lease, its Retry-After header set on the response.</summary>
    public static ProblemHttpResult Rejected(HttpContext context, RateLimitLease lease, int perMinute)
    {
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Make(
            ProblemTypes.RateLimited, $"This key may send {perMinute} requests a minute. Retry after {seconds} s.", title: "Too many requests for this key");
    }
}

/// <summary>
/// Each key's bucket, one per key name for the life of the process: the rate-limiting middleware takes a token per
/// request from it, and POST /feedback/batch takes one more per item beyond the first, from the same bucket.
/// </summary>
internal sealed class KeyBuckets(SecurityOptions settings, TimeProvider time, IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, RateLimiter> _buckets = new(StringComparer.Ordinal);

    public bool Enabled => settings.RateLimitPerMinute > 0;

    public int PerMinute => settings.RateLimitPerMinute;

    public RateLimiter For(string keyId) => _buckets.GetOrAdd(keyId, id =>
    {
        var perMinute = settings.RateLimitPerMinute;
        var refillEvery = TimeSpan.FromMinutes(1) / perMinute;
        var local = new ClockTokenBucket(time, perMinute, refillEvery);
        var redis = services.GetService<RedisLink>();
        return redis is null ? local : new SharedTokenBucket(redis, id, local, time, perMinute, refillEvery);
    });
}

/// <summary>
/// Sheds load before latency collapses: past MAX_CONCURRENT_REQUESTS requests in flight, a request is answered
/// 503 with Retry-After at once instead of queueing. Health and metrics are never shed, nor the dashboard's event
/// streams: they stay open for hours and have caps of their own (<see cref="Dashboard.EventStreamSlots"/>).
/// </summary>
internal sealed class LoadShedding(RequestDelegate next, SecurityOptions settings)
{
    private int _inFlight;

    public async Task InvokeAsync(HttpContext context)
    {
        if (settings.MaxConcurrentRequests == 0 || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/metrics")
            || context.Request.Path.StartsWithSegments("/dashboard/events"))
        {
            await next(context);
            return;
        }

        if (Interlocked.Increment(ref _inFlight) > settings.MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _inFlight);
            context.Response.Headers.RetryAfter = "1";
            await Problems.Make(
                    ProblemTypes.Overloaded,
                    "Too many requests are in progress. Nothing was stored; retry after the time in Retry-After.")
                .ExecuteAsync(context);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
