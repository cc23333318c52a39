using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Feedback.Api.Operations;
using StackExchange.Redis;

namespace Feedback.Api.Redis;

/// <summary>
/// The one connection to the Redis that several instances share (REDIS_URL). Redis is a helper, never a
/// dependency: every operation goes through <see cref="RunAsync{T}"/>, which answers "not done" instead of
/// throwing when Redis is down or slow, so callers fall back to this instance's cache, limiter and grouping.
/// Each fallback is counted (feedback_redis_fallbacks_total{operation}) and an outage is logged once.
/// </summary>
internal sealed partial class RedisLink : IDisposable
{
    /// <summary>After a failure, /health says degraded for this long even if the connection is back.</summary>
    private static readonly TimeSpan DegradedAfterFailure = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After a failure nothing is sent for this long: a Redis that hangs (connected but silent) then costs one
    /// timeout a second, not one per request.
    /// </summary>
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(1);

    private readonly ConnectionMultiplexer _connection;
    private readonly Counter<long> _fallbacks;
    private readonly ILogger<RedisLink> _logger;
    private long _failedAt;
    private int _down;

    public RedisLink(ConfigurationOptions options, string keyPrefix, IMeterFactory meterFactory, ILogger<RedisLink> logger)
    {
        _logger = logger;
        KeyPrefix = keyPrefix;
        _fallbacks = meterFactory.Create(FeedbackMetrics.MeterName).CreateCounter<long>(
            "feedback_redis_fallbacks", description: "Operations done by this instance alone because Redis could not be reached, by operation.");

        // AbortOnConnectFail is off: an instance starts, and serves, while Redis is down, and reconnects by itself.
        _connection = ConnectionMultiplexer.Connect(options);
        if (!_connection.IsConnected)
        {
            MarkFailed("connect", null);
        }
    }

    /// <summary>Put in front of every key, so several services or tests can share one Redis.</summary>
    public string KeyPrefix { get; }

    /// <summary>Worth trying now: connected, and no failure in the last moment.</summary>
    public bool Usable
    {
        get
        {
            var failedAt = Interlocked.Read(ref _failedAt);
            return _connection.IsConnected && (failedAt == 0 || Stopwatch.GetElapsedTime(failedAt) > PauseAfterFailure);
        }
    }

    /// <summary>Connected, and no operation failed lately.</summary>
    public bool Healthy
    {
        get
        {
            var failedAt = Interlocked.Read(ref _failedAt);
            return _connection.IsConnected && (failedAt == 0 || Stopwatch.GetElapsedTime(failedAt) > DegradedAfterFailure);
        }
    }

    /// <summary>
    /// Runs one Redis operation; <c>Done</c> is false (and the fallback counted) when Redis is not connected or
    /// the operation failed or timed out. While disconnected, and for a moment after a failure, nothing is sent,
    /// so a dead Redis costs no waiting and a hanging one little.
    /// </summary>
    public async ValueTask<(bool Done, T Value)> RunAsync<T>(string operation, Func<IDatabase, Task<T>> action)
    {
        if (!_connection.IsConnected)
        {
            MarkFailed(operation, null);
            return (false, default!);
        }

        if (!Usable)
        {
            _fallbacks.Add(1, new KeyValuePair<string, object?>("operation", operation));
            return (false, default!);
        }

        try
        {
            var value = await action(_connection.GetDatabase());
            if (Interlocked.Exchange(ref _down, 0) == 1)
            {
                LogRecovered(_logger);
            }

            return (true, value);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            MarkFailed(operation, exception);
            return (false, default!);
        }
    }

    /// <summary>
    /// Subscribes to a pub/sub channel; false when Redis cannot be reached now (try again later). Once subscribed,
    /// the connection subscribes again by itself after a reconnect.
    /// </summary>
    public async Task<bool> SubscribeAsync(string channel, Action<string> handler)
    {
        if (!Usable)
        {
            return false;
        }

        try
        {
            await _connection.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, message) => handler(message.ToString()));
            return true;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            MarkFailed("subscribe", exception);
            return false;
        }
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>
    /// REDIS_URL as redis://[user][:password@]host[:port][/db] (rediss:// for TLS), or StackExchange.Redis's own
    /// "host:port,option=value" form. Throws <see cref="FormatException"/> with a message for the operator.
    /// </summary>
    public static ConfigurationOptions ParseUrl(string value)
    {
        var text = value.Trim();
        ConfigurationOptions options;
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                throw new FormatException("REDIS_URL must look like redis://[:password@]host:port[/db].");
            }

            options = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
            options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : 6379);
            if (uri.UserInfo.Length > 0)
            {
                var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
                var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
                options.User = user.Length > 0 ? user : null;
                options.Password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }

            var database = uri.AbsolutePath.Trim('/');
            if (database.Length > 0)
            {
                if (!int.TryParse(database, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    throw new FormatException($"REDIS_URL: the database after the port must be a number (got '{database}').");
                }

                options.DefaultDatabase = number;
            }
        }
        else
        {
            // Only the first endpoint is looked at: an option such as password=... may hold any characters.
            if (text.Split(',')[0].Contains("://", StringComparison.Ordinal))
            {
                // StackExchange.Redis would read http://host:6379 as a host named "http" and the start would only warn.
                throw new FormatException("REDIS_URL must look like redis://[:password@]host:port[/db] (rediss:// for TLS) or host:port,options.");
            }

            try
            {
                options = ConfigurationOptions.Parse(text);
            }
            catch (ArgumentException exception)
            {
                throw new FormatException($"REDIS_URL is neither redis://host:port nor a StackExchange.Redis configuration: {exception.Message}", exception);
            }

            if (options.EndPoints.Count == 0)
            {
                throw new FormatException("REDIS_URL names no host.");
            }
        }

        options.AbortOnConnectFail = false;

        // Commands fail at once while disconnected instead of queueing until a timeout: the fallback answers.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "feedback";
        if (!text.Contains("connectTimeout=", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = 2000;
        }

        if (!text.Contains("syncTimeout=", StringComparison.OrdinalIgnoreCase) && !text.Contains("asyncTimeout=", StringComparison.OrdinalIgnoreCase))
        {
            // A request waits at most this long for Redis before answering from this instance alone.
            options.SyncTimeout = 500;
            options.AsyncTimeout = 500;
        }

        options.ReconnectRetryPolicy = new ExponentialRetry(500, 5000);
        return options;
    }

    private void MarkFailed(string operation, Exception? exception)
    {
        Interlocked.Exchange(ref _failedAt, Stopwatch.GetTimestamp());
        _fallbacks.Add(1, new KeyValuePair<string, object?>("operation", operation));
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            LogUnavailable(_logger, operation, exception?.GetType().Name ?? "not connected");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unavailable ({Operation}: {Reason}); this instance uses its own cache, rate limits and alert grouping until it is back")]
    private static partial void LogUnavailable(ILogger logger, string operation, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis is reachable again; cache, rate limits and alert grouping are shared again")]
    private static partial void LogRecovered(ILogger logger);
}
