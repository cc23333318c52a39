using Feedback.Analysis;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

/// <summary>
/// Every setting the service reads, under the environment variable names of the contract.
/// Bound once at start; a bad value stops the start with a message naming the variable.
/// </summary>
internal sealed class ServiceSettings
{
    [ConfigurationKeyName("API_KEY")]
    public string ApiKey { get; set; } = "";

    [ConfigurationKeyName("DATA_DIR")]
    public string DataDir { get; set; } = "./data";

    [ConfigurationKeyName("DATABASE_URL")]
    public string? DatabaseUrl { get; set; }

    [ConfigurationKeyName("CACHE_MAX_SIZE")]
    public int CacheMaxSize { get; set; } = 1000;

    [ConfigurationKeyName("CACHE_TTL_SECONDS")]
    public int CacheTtlSeconds { get; set; } = 3600;

    /// <summary>Comma-separated sentiments that raise an alert.</summary>
    [ConfigurationKeyName("ALERT_SENTIMENTS")]
    public string AlertSentiments { get; set; } = "negative,mixed";

    /// <summary>The lowest confidence level that raises an alert: high, medium or low.</summary>
    [ConfigurationKeyName("ALERT_MIN_CONFIDENCE")]
    public string AlertMinConfidence { get; set; } = "medium";

    /// <summary>How long a write waits for a lock held by another process before the store counts as unavailable.</summary>
    [ConfigurationKeyName("SQLITE_BUSY_TIMEOUT_MS")]
    public int SqliteBusyTimeoutMs { get; set; } = 2000;

    /// <summary>NORMAL survives a process crash; FULL also survives power loss, at one fsync per group commit.</summary>
    [ConfigurationKeyName("SQLITE_SYNCHRONOUS")]
    public string SqliteSynchronous { get; set; } = "FULL";

    public IReadOnlyList<string> ApiKeys =>
        ApiKey.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string SqliteConnectionString
    {
        get
        {
            var url = DatabaseUrl?.Trim();
            if (string.IsNullOrEmpty(url))
            {
                return $"Data Source={Path.GetFullPath(Path.Combine(DataDir, "feedback.db"))}";
            }

            if (url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase))
            {
                // sqlite:///abs/path.db and sqlite://relative.db, as the Python tools spell it.
                var path = url["sqlite://".Length..];
                if (path.StartsWith("//", StringComparison.Ordinal))
                {
                    path = path[1..];
                }

                return $"Data Source={Path.GetFullPath(path)}";
            }

            return url;
        }
    }

    public AlertRule AlertRule
    {
        get
        {
            var sentiments = new HashSet<Sentiment>();
            foreach (var name in AlertSentiments.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (WireNames.TryParseSentiment(name, out var sentiment))
                {
                    sentiments.Add(sentiment);
                }
            }

            var level = Enum.GetValues<ConfidenceLevel>().First(l => WireNames.Of(l) == AlertMinConfidence.Trim());
            return new AlertRule(sentiments, level);
        }
    }
}

internal sealed class ServiceSettingsValidator : IValidateOptions<ServiceSettings>
{
    public ValidateOptionsResult Validate(string? name, ServiceSettings options)
    {
        var failures = new List<string>();
        if (options.ApiKeys.Count == 0)
        {
            failures.Add("API_KEY is not set: give one or more keys, comma-separated (./run.sh creates .env with a fresh key).");
        }
        else if (options.ApiKeys.Any(k => k.Length < 16))
        {
            failures.Add("API_KEY: every key must be at least 16 characters long.");
        }

        if (options.CacheMaxSize < 0)
        {
            failures.Add($"CACHE_MAX_SIZE must be 0 or more (got {options.CacheMaxSize}).");
        }

        if (options.CacheTtlSeconds < 0)
        {
            failures.Add($"CACHE_TTL_SECONDS must be 0 or more (got {options.CacheTtlSeconds}).");
        }

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            failures.Add("DATA_DIR must name a directory.");
        }

        var url = options.DatabaseUrl?.Trim();
        if (!string.IsNullOrEmpty(url) && !url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase)
            && !url.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("DATABASE_URL must be sqlite:///path/to/file.db or 'Data Source=path' (empty: a SQLite file under DATA_DIR).");
        }

        foreach (var sentiment in options.AlertSentiments.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!WireNames.TryParseSentiment(sentiment, out _))
            {
                failures.Add($"ALERT_SENTIMENTS: '{sentiment}' is not one of positive, negative, neutral, mixed.");
            }
        }

        if (!Enum.GetValues<ConfidenceLevel>().Any(l => WireNames.Of(l) == options.AlertMinConfidence.Trim()))
        {
            failures.Add($"ALERT_MIN_CONFIDENCE must be high, medium or low (got '{options.AlertMinConfidence}').");
        }

        if (options.SqliteBusyTimeoutMs is < 0 or > 60_000)
        {
            failures.Add($"SQLITE_BUSY_TIMEOUT_MS must be between 0 and 60000 (got {options.SqliteBusyTimeoutMs}).");
        }

        if (options.SqliteSynchronous.Trim().ToUpperInvariant() is not ("NORMAL" or "FULL"))
        {
            failures.Add($"SQLITE_SYNCHRONOUS must be NORMAL or FULL (got '{options.SqliteSynchronous}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
