using Feedback.Analysis;
using Feedback.Api.Alerts;
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

    /// <summary>Named keys with scopes, one per line as NAME SCOPES sha256:HEX; re-read when it changes.</summary>
    [ConfigurationKeyName("API_KEYS_FILE")]
    public string? ApiKeysFile { get; set; }

    /// <summary>Requests a minute per API key (token bucket, same burst); 0 turns the limit off.</summary>
    [ConfigurationKeyName("RATE_LIMIT_PER_MINUTE")]
    public int RateLimitPerMinute { get; set; } = 100;

    /// <summary>Requests in flight at most before new ones are answered 503; 0 turns shedding off.</summary>
    [ConfigurationKeyName("MAX_CONCURRENT_REQUESTS")]
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary>text (the console default) or json: one JSON object a line.</summary>
    [ConfigurationKeyName("LOG_FORMAT")]
    public string LogFormat { get; set; } = "text";

    [ConfigurationKeyName("DATA_DIR")]
    public string DataDir { get; set; } = "./data";

    [ConfigurationKeyName("DATABASE_URL")]
    public string? DatabaseUrl { get; set; }

    /// <summary>
    /// A Redis that several instances share (redis://[:password@]host:port[/db], or "host:port,options"): the LLM
    /// answer cache, the rate limits and alert grouping then hold across instances. Empty: each instance alone.
    /// </summary>
    [ConfigurationKeyName("REDIS_URL")]
    public string? RedisUrl { get; set; }

    /// <summary>Put in front of every Redis key, so several deployments (or tests) can share one Redis.</summary>
    [ConfigurationKeyName("REDIS_KEY_PREFIX")]
    public string RedisKeyPrefix { get; set; } = "feedback:";

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

    /// <summary>
    /// <c>deep</c>: the sentence encoder and trained heads (classifier v2, ~300 MB resident, ~10 ms of CPU a message);
    /// <c>fast</c>: the lexical model alone (tens of microseconds, for small machines).
    /// </summary>
    [ConfigurationKeyName("CLASSIFIER")]
    public string Classifier { get; set; } = "deep";

    /// <summary>How long a request waits for the deep model before the lexical answer goes out as provisional.</summary>
    [ConfigurationKeyName("DEEP_DEADLINE_MS")]
    public int DeepDeadlineMs { get; set; } = 300;

    /// <summary>Threads the encoder uses for one batch (0: one per core).</summary>
    [ConfigurationKeyName("ENCODER_THREADS")]
    public int EncoderThreads { get; set; }

    /// <summary>Messages encoded together at most when requests queue up.</summary>
    [ConfigurationKeyName("ENCODER_BATCH_SIZE")]
    public int EncoderBatchSize { get; set; } = 32;

    /// <summary>Deep unless <c>CLASSIFIER=fast</c>; an empty value is the default.</summary>
    public bool DeepClassifier => TryParseClassifier(Classifier, out var deep) && deep;

    /// <summary>deep, fast, or empty (the default, deep), in any case: the server's and the CLI's one reading of CLASSIFIER.</summary>
    public static bool TryParseClassifier(string? value, out bool deep)
    {
        var name = value?.Trim() ?? "";
        deep = !name.Equals("fast", StringComparison.OrdinalIgnoreCase);
        return name.Length == 0 || !deep || name.Equals("deep", StringComparison.OrdinalIgnoreCase);
    }

    [ConfigurationKeyName("OPENAI_API_KEY")]
    public string? OpenAiApiKey { get; set; }

    /// <summary>Any OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 for Ollama.</summary>
    [ConfigurationKeyName("OPENAI_BASE_URL")]
    public string? OpenAiBaseUrl { get; set; }

    [ConfigurationKeyName("OPENAI_MODEL")]
    public string OpenAiModel { get; set; } = "gpt-4o-mini";

    [ConfigurationKeyName("AI_PROVIDER_ENABLED")]
    public bool AiProviderEnabled { get; set; } = true;

    /// <summary>How long a request waits for the LLM before answering with the local result as provisional.</summary>
    [ConfigurationKeyName("AI_DEADLINE_MS")]
    public int AiDeadlineMs { get; set; } = 350;

    /// <summary>How long one LLM call may take in the background before it counts as failed.</summary>
    [ConfigurationKeyName("AI_TIMEOUT_MS")]
    public int AiTimeoutMs { get; set; } = 15_000;

    [ConfigurationKeyName("AI_MAX_CONCURRENCY")]
    public int AiMaxConcurrency { get; set; } = 16;

    [ConfigurationKeyName("AI_CIRCUIT_FAILURES")]
    public int AiCircuitFailures { get; set; } = 5;

    [ConfigurationKeyName("AI_CIRCUIT_BREAK_SECONDS")]
    public int AiCircuitBreakSeconds { get; set; } = 30;

    /// <summary>How often provisional answers left behind (by a restart or a full LLM queue) are retried.</summary>
    [ConfigurationKeyName("AI_SWEEP_SECONDS")]
    public int AiSweepSeconds { get; set; } = 10;

    [ConfigurationKeyName("PROMPT_VERSION")]
    public string PromptVersion { get; set; } = "v2";

    /// <summary>NAME:PERCENT, e.g. v3:10 sends a stable 10 % of texts to prompt v3.</summary>
    [ConfigurationKeyName("PROMPT_CANARY")]
    public string? PromptCanary { get; set; }

    [ConfigurationKeyName("REDACT_PII")]
    public bool RedactPii { get; set; } = true;

    [ConfigurationKeyName("SLACK_WEBHOOK_URL")]
    public string? SlackWebhookUrl { get; set; }

    /// <summary>A generic webhook that receives every alert, signed as Standard Webhooks says.</summary>
    [ConfigurationKeyName("ALERT_WEBHOOK_URL")]
    public string? AlertWebhookUrl { get; set; }

    /// <summary>The webhook's shared secret: whsec_ followed by base64, or any text.</summary>
    [ConfigurationKeyName("ALERT_WEBHOOK_SECRET")]
    public string? AlertWebhookSecret { get; set; }

    /// <summary>PagerDuty Events API v2 integration key: critical alert groups page.</summary>
    [ConfigurationKeyName("PAGERDUTY_ROUTING_KEY")]
    public string? PagerDutyRoutingKey { get; set; }

    [ConfigurationKeyName("PAGERDUTY_URL")]
    public string? PagerDutyUrl { get; set; }

    /// <summary>The address people open the service at, for links in alert messages.</summary>
    [ConfigurationKeyName("PUBLIC_URL")]
    public string? PublicUrl { get; set; }

    [ConfigurationKeyName("ALERT_GROUP_WINDOW_SECONDS")]
    public int AlertGroupWindowSeconds { get; set; } = 600;

    /// <summary>How many of the 64 SimHash bits two texts may differ in and still be the same complaint.</summary>
    [ConfigurationKeyName("ALERT_SIMILARITY_BITS")]
    public int AlertSimilarityBits { get; set; } = 10;

    /// <summary>The least time between two requests to one receiver (Slack allows about one a second).</summary>
    [ConfigurationKeyName("ALERT_SEND_INTERVAL_MS")]
    public int AlertSendIntervalMs { get; set; } = 1000;

    [ConfigurationKeyName("ALERT_RETRY_FIRST_SECONDS")]
    public double AlertRetryFirstSeconds { get; set; } = 1;

    [ConfigurationKeyName("ALERT_RETRY_MAX_SECONDS")]
    public double AlertRetryMaxSeconds { get; set; } = 300;

    [ConfigurationKeyName("ALERT_POLL_SECONDS")]
    public double AlertPollSeconds { get; set; } = 5;

    /// <summary>A JSON file of severity rules; empty: the shipped Alerts/alert-rules.json.</summary>
    [ConfigurationKeyName("ALERT_RULES_FILE")]
    public string? AlertRulesFile { get; set; }

    [ConfigurationKeyName("SPIKE_CHECK_SECONDS")]
    public int SpikeCheckSeconds { get; set; } = 300;

    /// <summary>The fewest negative messages of one topic in an hour that can be a spike.</summary>
    [ConfigurationKeyName("SPIKE_MIN_COUNT")]
    public int SpikeMinCount { get; set; } = 10;

    /// <summary>How unlikely the last hour must be under the topic's baseline (Poisson upper tail).</summary>
    [ConfigurationKeyName("SPIKE_P_VALUE")]
    public double SpikePValue { get; set; } = 0.001;

    public SpikeSettings SpikeSettings => new(TimeSpan.FromSeconds(SpikeCheckSeconds), SpikeMinCount, SpikePValue, MinimumBaselinePerHour: 0.5);

    /// <summary>Prometheus metrics at /metrics (and OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set).</summary>
    [ConfigurationKeyName("METRICS_ENABLED")]
    public bool MetricsEnabled { get; set; } = true;

    public bool AiConfigured =>
        AiProviderEnabled && (!string.IsNullOrWhiteSpace(OpenAiApiKey) || !string.IsNullOrWhiteSpace(OpenAiBaseUrl));

    public (string Name, int Percent)? Canary
    {
        get
        {
            if (string.IsNullOrWhiteSpace(PromptCanary))
            {
                return null;
            }

            var parts = PromptCanary.Split(':', StringSplitOptions.TrimEntries);
            return parts.Length == 2 && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var percent)
                ? (parts[0], percent)
                : null;
        }
    }

    public IReadOnlyList<string> ApiKeys =>
        ApiKey.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The Npgsql connection string when DATABASE_URL names a PostgreSQL server, else null (the SQLite file).</summary>
    public string? PostgresConnectionString => Storage.PostgresUrl.TryParse(DatabaseUrl, out var connectionString, out _) ? connectionString : null;

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

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public AlertSettings AlertSettings => new(
        TimeSpan.FromSeconds(AlertGroupWindowSeconds),
        AlertSimilarityBits,
        Blank(SlackWebhookUrl),
        Blank(AlertWebhookUrl),
        Blank(AlertWebhookSecret),
        Blank(PagerDutyUrl),
        Blank(PagerDutyRoutingKey),
        Blank(PublicUrl),
        TimeSpan.FromMilliseconds(AlertSendIntervalMs),
        TimeSpan.FromSeconds(AlertRetryFirstSeconds),
        TimeSpan.FromSeconds(AlertRetryMaxSeconds),
        TimeSpan.FromSeconds(AlertPollSeconds));

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
    /// <summary>
    /// Its own method, never inlined: compiling a method whose body names StackExchange.Redis's types loads that
    /// assembly, so a server without REDIS_URL would map it (about 1 MB) for nothing if the parse sat in Validate.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void CheckRedisUrl(string url) => Redis.RedisLink.ParseUrl(url);

    public ValidateOptionsResult Validate(string? name, ServiceSettings options)
    {
        var failures = new List<string>();
        if (options.ApiKeys.Count == 0 && string.IsNullOrWhiteSpace(options.ApiKeysFile))
        {
            failures.Add("API_KEY is not set: give one or more keys, comma-separated, or API_KEYS_FILE (./run.sh creates .env with a fresh key).");
        }
        else if (options.ApiKeys.Any(k => k.Length < 16))
        {
            failures.Add("API_KEY: every key must be at least 16 characters long.");
        }

        if (!string.IsNullOrWhiteSpace(options.ApiKeysFile))
        {
            try
            {
                Security.ApiKeyStore.ParseFile(File.ReadAllLines(options.ApiKeysFile));
            }
            catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
            {
                failures.Add($"API_KEYS_FILE: {exception.Message}");
            }
        }

        if (options.LogFormat is not ("text" or "json"))
        {
            failures.Add($"LOG_FORMAT must be text or json (got '{options.LogFormat}').");
        }

        if (options.RateLimitPerMinute < 0)
        {
            failures.Add($"RATE_LIMIT_PER_MINUTE must be 0 (off) or more (got {options.RateLimitPerMinute}).");
        }

        if (options.MaxConcurrentRequests < 0)
        {
            failures.Add($"MAX_CONCURRENT_REQUESTS must be 0 (off) or more (got {options.MaxConcurrentRequests}).");
        }

        if (options.CacheMaxSize < 0)
        {
            failures.Add($"CACHE_MAX_SIZE must be 0 or more (got {options.CacheMaxSize}).");
        }

        if (options.CacheTtlSeconds < 0)
        {
            failures.Add($"CACHE_TTL_SECONDS must be 0 or more (got {options.CacheTtlSeconds}).");
        }

        if (!string.IsNullOrWhiteSpace(options.RedisUrl))
        {
            try
            {
                CheckRedisUrl(options.RedisUrl);
            }
            catch (FormatException exception)
            {
                failures.Add(exception.Message);
            }
        }

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            failures.Add("DATA_DIR must name a directory.");
        }

        var url = options.DatabaseUrl?.Trim();
        if (Storage.PostgresUrl.IsPostgres(url))
        {
            if (!Storage.PostgresUrl.TryParse(url, out _, out var error))
            {
                failures.Add($"DATABASE_URL is not a usable PostgreSQL address: {error}");
            }
        }
        else if (!string.IsNullOrEmpty(url) && !url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase)
            && !url.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add(
                "DATABASE_URL must be sqlite:///path/to/file.db, 'Data Source=path', postgres://user:password@host:port/database " +
                "or 'Host=...;Username=...;Database=...' (empty: a SQLite file under DATA_DIR).");
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

        if (!string.IsNullOrWhiteSpace(options.OpenAiBaseUrl)
            && (!Uri.TryCreate(options.OpenAiBaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https")))
        {
            failures.Add($"OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:11434/v1 (got '{options.OpenAiBaseUrl}').");
        }

        if (string.IsNullOrWhiteSpace(options.OpenAiModel))
        {
            failures.Add("OPENAI_MODEL must name a model.");
        }

        if (!ServiceSettings.TryParseClassifier(options.Classifier, out _))
        {
            failures.Add($"CLASSIFIER must be deep or fast (got '{options.Classifier}').");
        }

        if (options.DeepDeadlineMs is < 0 or > 10_000)
        {
            failures.Add($"DEEP_DEADLINE_MS must be between 0 and 10000 (got {options.DeepDeadlineMs}).");
        }

        if (options.EncoderThreads is < 0 or > 256)
        {
            failures.Add($"ENCODER_THREADS must be between 0 (one per core) and 256 (got {options.EncoderThreads}).");
        }

        if (options.EncoderBatchSize is < 1 or > 256)
        {
            failures.Add($"ENCODER_BATCH_SIZE must be between 1 and 256 (got {options.EncoderBatchSize}).");
        }

        if (options.AiDeadlineMs is < 0 or > 10_000)
        {
            failures.Add($"AI_DEADLINE_MS must be between 0 and 10000 (got {options.AiDeadlineMs}).");
        }

        if (options.AiTimeoutMs is < 100 or > 300_000)
        {
            failures.Add($"AI_TIMEOUT_MS must be between 100 and 300000 (got {options.AiTimeoutMs}).");
        }

        if (options.AiMaxConcurrency is < 1 or > 1024)
        {
            failures.Add($"AI_MAX_CONCURRENCY must be between 1 and 1024 (got {options.AiMaxConcurrency}).");
        }

        if (options.AiCircuitFailures < 1)
        {
            failures.Add($"AI_CIRCUIT_FAILURES must be 1 or more (got {options.AiCircuitFailures}).");
        }

        if (options.AiCircuitBreakSeconds < 1)
        {
            failures.Add($"AI_CIRCUIT_BREAK_SECONDS must be 1 or more (got {options.AiCircuitBreakSeconds}).");
        }

        if (options.AiSweepSeconds < 1)
        {
            failures.Add($"AI_SWEEP_SECONDS must be 1 or more (got {options.AiSweepSeconds}).");
        }

        if (!Feedback.Analysis.Llm.PromptLibrary.TryGet(options.PromptVersion, out _))
        {
            failures.Add($"PROMPT_VERSION: there is no prompt '{options.PromptVersion}' (known: {string.Join(", ", Feedback.Analysis.Llm.PromptLibrary.Names)}).");
        }

        if (!string.IsNullOrWhiteSpace(options.PromptCanary))
        {
            if (options.Canary is not { } canary || canary.Percent > 100)
            {
                failures.Add($"PROMPT_CANARY must be NAME:PERCENT with a percent from 0 to 100, e.g. v3:10 (got '{options.PromptCanary}').");
            }
            else if (!Feedback.Analysis.Llm.PromptLibrary.TryGet(canary.Name, out _))
            {
                failures.Add($"PROMPT_CANARY: there is no prompt '{canary.Name}' (known: {string.Join(", ", Feedback.Analysis.Llm.PromptLibrary.Names)}).");
            }
        }

        foreach (var (variable, value) in new[]
        {
            ("SLACK_WEBHOOK_URL", options.SlackWebhookUrl), ("ALERT_WEBHOOK_URL", options.AlertWebhookUrl),
            ("PAGERDUTY_URL", options.PagerDutyUrl), ("PUBLIC_URL", options.PublicUrl),
        })
        {
            if (!string.IsNullOrWhiteSpace(value) && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                failures.Add($"{variable} must be an http(s) URL (got '{value}').");
            }
        }

        if (options.AlertWebhookSecret is { Length: > 0 } secret && secret.StartsWith("whsec_", StringComparison.Ordinal)
            && !Convert.TryFromBase64String(secret["whsec_".Length..], new byte[secret.Length], out _))
        {
            failures.Add("ALERT_WEBHOOK_SECRET starts with whsec_ but the rest is not base64.");
        }

        if (options.AlertGroupWindowSeconds < 1)
        {
            failures.Add($"ALERT_GROUP_WINDOW_SECONDS must be 1 or more (got {options.AlertGroupWindowSeconds}).");
        }

        if (options.AlertSimilarityBits is < 0 or > 32)
        {
            failures.Add($"ALERT_SIMILARITY_BITS must be between 0 and 32 (got {options.AlertSimilarityBits}).");
        }

        if (options.AlertSendIntervalMs < 0)
        {
            failures.Add($"ALERT_SEND_INTERVAL_MS must be 0 or more (got {options.AlertSendIntervalMs}).");
        }

        if (options.AlertRetryFirstSeconds <= 0 || options.AlertRetryMaxSeconds < options.AlertRetryFirstSeconds)
        {
            failures.Add("ALERT_RETRY_FIRST_SECONDS must be above 0 and ALERT_RETRY_MAX_SECONDS at least as large.");
        }

        if (options.AlertPollSeconds <= 0)
        {
            failures.Add($"ALERT_POLL_SECONDS must be above 0 (got {options.AlertPollSeconds}).");
        }

        if (options.SpikeCheckSeconds < 1 || options.SpikeMinCount < 1 || options.SpikePValue is <= 0 or >= 1)
        {
            failures.Add("SPIKE_CHECK_SECONDS and SPIKE_MIN_COUNT must be 1 or more and SPIKE_P_VALUE between 0 and 1.");
        }

        if (!string.IsNullOrWhiteSpace(options.AlertRulesFile) && !File.Exists(options.AlertRulesFile))
        {
            failures.Add($"ALERT_RULES_FILE: there is no file '{options.AlertRulesFile}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
