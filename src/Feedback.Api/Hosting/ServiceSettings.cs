using Feedback.Analysis;
using Feedback.Analysis.Llm;
using Feedback.Api.Alerts;
using Feedback.Storage;
using Feedback.Storage.Alerts;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

/// <summary>
/// Every setting the service reads, under the environment variable names of the contract.
/// Bound once at start; a bad value stops the start with a message naming the variable.
/// </summary>
internal sealed class ServiceSettings
{
    /// <summary>Where the store is (DATA_DIR, DATABASE_URL, SQLITE_*): bound from the same variables as the CLI's.</summary>
    public StoreSettings Store { get; } = new();

    /// <summary>Which answers raise alerts and where they go (ALERT_*, SLACK_*, PAGERDUTY_*, PUBLIC_URL): as the CLI binds them.</summary>
    public AlertOptions Alerts { get; } = new();

    /// <summary>The LLM (OPENAI_*, AI_PROVIDER_ENABLED, AI_TIMEOUT_MS, AI_CIRCUIT_*, PROMPT_*, REDACT_PII): as the CLI binds it.</summary>
    public LlmSettings Llm { get; } = new();

    /// <summary>The dashboard's sign-in and event-stream limits (DASHBOARD_*).</summary>
    public Dashboard.DashboardSettings Dashboard { get; } = new();

    /// <summary>Which peers' X-Forwarded-* headers count (TRUSTED_PROXIES).</summary>
    public Security.ProxySettings Proxies { get; } = new();

    /// <summary>How the themes are clustered in the background (THEMES_*).</summary>
    public Themes.ThemeSettings Themes { get; } = new();

    /// <summary>Binds every setting, the store's and the alerts' included, from the same flat variables.</summary>
    public static void Bind(IConfiguration configuration, ServiceSettings settings)
    {
        configuration.Bind(settings);
        configuration.Bind(settings.Store);
        configuration.Bind(settings.Alerts);
        configuration.Bind(settings.Llm);
        configuration.Bind(settings.Dashboard);
        configuration.Bind(settings.Proxies);
        configuration.Bind(settings.Themes);
    }

    [ConfigurationKeyName("API_KEY")]
    public string ApiKey { get; set; } = "";

    /// <summary>Requests a minute per API key (token bucket, same burst); 0 turns the limit off.</summary>
    [ConfigurationKeyName("RATE_LIMIT_PER_MINUTE")]
    public int RateLimitPerMinute { get; set; } = 100;

    /// <summary>Requests in flight at most before new ones are answered 503; 0 turns shedding off.</summary>
    [ConfigurationKeyName("MAX_CONCURRENT_REQUESTS")]
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary>text (the console default) or json: one JSON object a line.</summary>
    [ConfigurationKeyName("LOG_FORMAT")]
    public string LogFormat { get; set; } = "text";

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
    public bool DeepClassifier => ClassifierChoice.TryParse(Classifier, out var deep) && deep;

    /// <summary>How long a request waits for the LLM before answering with the local result as provisional.</summary>
    [ConfigurationKeyName("AI_DEADLINE_MS")]
    public int AiDeadlineMs { get; set; } = 350;

    [ConfigurationKeyName("AI_MAX_CONCURRENCY")]
    public int AiMaxConcurrency { get; set; } = 16;

    /// <summary>How often provisional answers left behind (by a restart or a full LLM queue) are retried.</summary>
    [ConfigurationKeyName("AI_SWEEP_SECONDS")]
    public int AiSweepSeconds { get; set; } = 10;

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

    /// <summary>How long a <c>?q=</c> search may run before the store stops it and the answer is a 503 problem.</summary>
    [ConfigurationKeyName("SEARCH_TIMEOUT_MS")]
    public int SearchTimeoutMs { get; set; } = 2000;

    public TimeSpan SearchTimeout => TimeSpan.FromMilliseconds(SearchTimeoutMs);

    public IReadOnlyList<string> ApiKeys =>
        ApiKey.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
        var keysFile = options.Store.ApiKeysPath;
        var keysFileGiven = !string.IsNullOrWhiteSpace(options.Store.ApiKeysFile);
        if (options.ApiKeys.Count == 0 && !keysFileGiven && !File.Exists(keysFile))
        {
            failures.Add($"API_KEY is not set: give one or more keys, comma-separated, or add a named key (./run.sh key add NAME writes {keysFile}; ./run.sh creates .env with a fresh key).");
        }
        else if (options.ApiKeys.Any(k => k.Length < 16))
        {
            failures.Add("API_KEY: every key must be at least 16 characters long.");
        }

        // A file named by API_KEYS_FILE must be there; the default one only once a key was added.
        if (keysFileGiven || File.Exists(keysFile))
        {
            try
            {
                Security.ApiKeyStore.ParseFile(File.ReadAllLines(keysFile));
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

        if (options.SearchTimeoutMs is < 1 or > 60_000)
        {
            failures.Add($"SEARCH_TIMEOUT_MS must be between 1 and 60000 (got {options.SearchTimeoutMs}).");
        }

        failures.AddRange(options.Store.Failures());
        failures.AddRange(options.Dashboard.Failures());
        failures.AddRange(options.Proxies.Failures());
        failures.AddRange(options.Themes.Failures());

        failures.AddRange(options.Alerts.RuleFailures());

        if (options.Alerts.AlertPagesPerHour is < 1 or > 3600)
        {
            failures.Add($"ALERT_PAGES_PER_HOUR must be between 1 and 3600 (got {options.Alerts.AlertPagesPerHour}).");
        }

        if (!string.IsNullOrWhiteSpace(options.Llm.OpenAiBaseUrl)
            && (!Uri.TryCreate(options.Llm.OpenAiBaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https")))
        {
            failures.Add($"OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:11434/v1 (got '{options.Llm.OpenAiBaseUrl}').");
        }

        if (string.IsNullOrWhiteSpace(options.Llm.OpenAiModel))
        {
            failures.Add("OPENAI_MODEL must name a model.");
        }

        failures.AddRange(options.Llm.BudgetFailures());

        if (!ClassifierChoice.TryParse(options.Classifier, out _))
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

        if (options.Llm.AiTimeoutMs is < 100 or > 300_000)
        {
            failures.Add($"AI_TIMEOUT_MS must be between 100 and 300000 (got {options.Llm.AiTimeoutMs}).");
        }

        if (options.AiMaxConcurrency is < 1 or > 1024)
        {
            failures.Add($"AI_MAX_CONCURRENCY must be between 1 and 1024 (got {options.AiMaxConcurrency}).");
        }

        if (options.Llm.AiCircuitFailures < 1)
        {
            failures.Add($"AI_CIRCUIT_FAILURES must be 1 or more (got {options.Llm.AiCircuitFailures}).");
        }

        if (options.Llm.AiCircuitBreakSeconds < 1)
        {
            failures.Add($"AI_CIRCUIT_BREAK_SECONDS must be 1 or more (got {options.Llm.AiCircuitBreakSeconds}).");
        }

        if (options.AiSweepSeconds < 1)
        {
            failures.Add($"AI_SWEEP_SECONDS must be 1 or more (got {options.AiSweepSeconds}).");
        }

        if (!Feedback.Analysis.Llm.PromptLibrary.TryGet(options.Llm.PromptVersion, out _))
        {
            failures.Add($"PROMPT_VERSION: there is no prompt '{options.Llm.PromptVersion}' (known: {string.Join(", ", Feedback.Analysis.Llm.PromptLibrary.Names)}).");
        }

        if (!string.IsNullOrWhiteSpace(options.Llm.PromptCanary))
        {
            if (options.Llm.Canary is not { } canary || canary.Percent > 100)
            {
                failures.Add($"PROMPT_CANARY must be NAME:PERCENT with a percent from 0 to 100, e.g. v3:10 (got '{options.Llm.PromptCanary}').");
            }
            else if (!Feedback.Analysis.Llm.PromptLibrary.TryGet(canary.Name, out _))
            {
                failures.Add($"PROMPT_CANARY: there is no prompt '{canary.Name}' (known: {string.Join(", ", Feedback.Analysis.Llm.PromptLibrary.Names)}).");
            }
        }

        foreach (var (variable, value) in new[]
        {
            ("SLACK_WEBHOOK_URL", options.Alerts.SlackWebhookUrl), ("ALERT_WEBHOOK_URL", options.Alerts.AlertWebhookUrl),
            ("PAGERDUTY_URL", options.Alerts.PagerDutyUrl), ("PUBLIC_URL", options.Alerts.PublicUrl),
        })
        {
            if (!string.IsNullOrWhiteSpace(value) && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                // The value is not echoed: a webhook URL carries its secret, and start-up errors end in container logs.
                failures.Add($"{variable} must be an absolute http(s) URL; the value set is not (it is not shown, as webhook URLs hold secrets).");
            }
        }

        if (options.Alerts.AlertWebhookSecret is { Length: > 0 } secret && secret.StartsWith("whsec_", StringComparison.Ordinal)
            && !Convert.TryFromBase64String(secret["whsec_".Length..], new byte[secret.Length], out _))
        {
            failures.Add("ALERT_WEBHOOK_SECRET starts with whsec_ but the rest is not base64.");
        }

        if (options.Alerts.AlertGroupWindowSeconds < 1)
        {
            failures.Add($"ALERT_GROUP_WINDOW_SECONDS must be 1 or more (got {options.Alerts.AlertGroupWindowSeconds}).");
        }

        if (options.Alerts.AlertSimilarityBits is < 0 or > 32)
        {
            failures.Add($"ALERT_SIMILARITY_BITS must be between 0 and 32 (got {options.Alerts.AlertSimilarityBits}).");
        }

        if (options.Alerts.AlertMeaningBits is < 0 or > 32)
        {
            failures.Add($"ALERT_MEANING_BITS must be between 0 and 32 (got {options.Alerts.AlertMeaningBits}).");
        }

        if (options.Alerts.AlertGroupBy?.Trim().ToLowerInvariant() is not ("meaning" or "words"))
        {
            failures.Add($"ALERT_GROUP_BY must be meaning or words (got {options.Alerts.AlertGroupBy}).");
        }

        if (options.Alerts.AlertSendIntervalMs < 0)
        {
            failures.Add($"ALERT_SEND_INTERVAL_MS must be 0 or more (got {options.Alerts.AlertSendIntervalMs}).");
        }

        if (options.Alerts.AlertRetryFirstSeconds <= 0 || options.Alerts.AlertRetryMaxSeconds < options.Alerts.AlertRetryFirstSeconds)
        {
            failures.Add("ALERT_RETRY_FIRST_SECONDS must be above 0 and ALERT_RETRY_MAX_SECONDS at least as large.");
        }

        if (options.Alerts.AlertMaxAttempts < 0)
        {
            failures.Add($"ALERT_MAX_ATTEMPTS must be 0 (no limit) or more (got {options.Alerts.AlertMaxAttempts}).");
        }

        if (options.Alerts.AlertPollSeconds <= 0)
        {
            failures.Add($"ALERT_POLL_SECONDS must be above 0 (got {options.Alerts.AlertPollSeconds}).");
        }

        if (options.SpikeCheckSeconds < 1 || options.SpikeMinCount < 1 || options.SpikePValue is <= 0 or >= 1)
        {
            failures.Add("SPIKE_CHECK_SECONDS and SPIKE_MIN_COUNT must be 1 or more and SPIKE_P_VALUE between 0 and 1.");
        }

        if (!string.IsNullOrWhiteSpace(options.Alerts.AlertRulesFile) && !File.Exists(options.Alerts.AlertRulesFile))
        {
            failures.Add($"ALERT_RULES_FILE: there is no file '{options.Alerts.AlertRulesFile}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
