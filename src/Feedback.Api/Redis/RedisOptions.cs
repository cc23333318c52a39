namespace Feedback.Api.Redis;

/// <summary>
/// A Redis that several instances share (REDIS_URL): the LLM answer cache, the rate limits, alert grouping and the
/// dashboard's change feed then hold across instances. Empty: each instance alone.
/// </summary>
internal sealed class RedisOptions
{
    /// <summary>redis://[:password@]host:port[/db], or "host:port,options".</summary>
    [ConfigurationKeyName("REDIS_URL")]
    public string? RedisUrl { get; set; }

    /// <summary>Put in front of every Redis key, so several deployments (or tests) can share one Redis.</summary>
    [ConfigurationKeyName("REDIS_KEY_PREFIX")]
    public string RedisKeyPrefix { get; set; } = "feedback:";

    public bool Configured => !string.IsNullOrWhiteSpace(RedisUrl);

    public IReadOnlyList<string> Failures()
    {
        if (!Configured)
        {
            return [];
        }

        try
        {
            CheckUrl(RedisUrl!);
            return [];
        }
        catch (FormatException exception)
        {
            return [exception.Message];
        }
    }

    /// <summary>
    /// A method of its own: compiling a method that calls <see cref="RedisLink.ParseUrl"/> loads StackExchange.Redis
    /// (its result is that library's type), so a server without REDIS_URL would map it for nothing if the call sat in
    /// <see cref="Failures"/> (FootprintTests).
    /// </summary>
    private static void CheckUrl(string url) => RedisLink.ParseUrl(url);
}
