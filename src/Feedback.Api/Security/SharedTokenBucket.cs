using System.Threading.RateLimiting;
using Feedback.Api.Redis;
using StackExchange.Redis;

namespace Feedback.Api.Security;

/// <summary>
/// One API key's token bucket kept in Redis, so every instance draws from the same tokens. The refill and the
/// take happen in one Lua script, atomically, on the clock of the instance asking (instances' clocks only move
/// the bucket forward, never back). While Redis cannot be reached the instance's own bucket answers instead.
/// </summary>
internal sealed class SharedTokenBucket(
    RedisLink redis, string keyId, ClockTokenBucket local, TimeProvider time, int capacity, TimeSpan refillEvery) : RateLimiter
{
    // KEYS[1]: the bucket (a hash of tokens and the time they were counted at, in ms).
    // ARGV: capacity, ms per token, now in ms, permits wanted. Returns {1, 0} or {0, ms until enough tokens}.
    // The key expires once the bucket would be full again, so idle keys cost nothing.
    private const string Script = """
        local capacity = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local now = tonumber(ARGV[3])
        local permits = tonumber(ARGV[4])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1]) or capacity
        local at = tonumber(state[2]) or now
        if now > at then
          tokens = math.min(capacity, tokens + (now - at) / interval)
          at = now
        end
        local granted = 0
        local wait = 0
        if tokens >= permits then
          tokens = tokens - permits
          granted = 1
        else
          wait = math.ceil((permits - tokens) * interval)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
        redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) * interval)))
        return {granted, wait}
        """;

    /// <summary>Asks the caller to come back through <see cref="AcquireAsyncCore"/>, where Redis can be awaited.</summary>
    private static readonly BucketLease GoAsync = new(false, null);

    private readonly RedisKey _key = $"{redis.KeyPrefix}rate:{keyId}";

    public override TimeSpan? IdleDuration => local.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => local.GetStatistics();

    /// <summary>
    /// The rate-limiting middleware tries this synchronous path first and awaits <see cref="AcquireAsyncCore"/>
    /// when it is refused, so the Redis round trip is made there. While Redis is down the local bucket answers here.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        redis.Usable ? GoAsync : local.AttemptAcquire(permitCount);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var (done, result) = await redis.RunAsync("rate_limit", db => db.ScriptEvaluateAsync(
            Script, [_key], [capacity, refillEvery.TotalMilliseconds, now, permitCount]));
        if (!done)
        {
            return local.AttemptAcquire(permitCount);
        }

        var answer = (RedisResult[])result!;
        return (int)answer[0] == 1 ? BucketLease.Granted : new BucketLease(false, TimeSpan.FromMilliseconds((long)answer[1]));
    }
}
