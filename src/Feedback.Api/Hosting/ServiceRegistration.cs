using System.Diagnostics.Metrics;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Llm;
using Feedback.Analysis.Local;
using Feedback.Api.Alerts;
using Feedback.Api.Alerts.Channels;
using Feedback.Api.Queries;
using Feedback.Api.Redis;
using Feedback.Api.Revisions;
using Feedback.Api.Submissions;
using Microsoft.Extensions.Options;
using Feedback.Storage;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Hosting;

internal static class ServiceRegistration
{
    /// <summary>Reads .env from the working directory beneath every other source, so the environment wins.</summary>
    public static void AddDotEnv(this ConfigurationManager configuration, string path) =>
        configuration.Sources.Insert(0, new DotEnvSource(path));

    /// <summary>The classifiers (lexical, deep, LLM), their cache, and the sweep that revises provisional answers.</summary>
    public static IHostApplicationBuilder AddAnalysis(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var settings = builder.Options<AnalysisOptions>();
        var llm = builder.Options<LlmSettings>();
        services.AddSingleton<ILocalClassifier, LocalClassifier>();
        // The topics answers carry, from the trained deep model (cheap to read; the encoder is not loaded for it).
        services.AddSingleton(DeepHeads.Default.Taxonomy);
        if (settings.DeepClassifier)
        {
            // Built at start, so the encoder loads (in the background, on the tier's own thread) before requests come.
            services.AddSingleton(sp => new DeepTier(
                new DeepClassifier((LocalClassifier)sp.GetRequiredService<ILocalClassifier>(), SharedEncoders.Get(new EncoderOptions(settings.EncoderThreads, settings.EncoderBatchSize)), DeepHeads.Default),
                new DeepTierOptions(TimeSpan.FromMilliseconds(settings.DeepDeadlineMs), settings.EncoderBatchSize)));
            services.AddHostedService(sp => new StartWithHost(sp.GetRequiredService<DeepTier>()));
        }

        services.AddSingleton(sp => new ClassificationCache(
            settings.CacheMaxSize, TimeSpan.FromSeconds(settings.CacheTtlSeconds), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<AnalysisMetrics>();
        services.AddSingleton(sp => new SearchClock(sp.GetRequiredService<TimeProvider>()));

        // What the writers count LLM calls against (the month's alerts) and /stats prices them with.
        services.AddSingleton(llm.Pricing);
        // The API neither stores nor returns the reasons text (only the CLI's analyser shows it), so the local classifier
        // skips building it: the same labels and probabilities for less work per message. The cache is this analyzer's own.
        services.AddSingleton(sp => new Analyzer(
            sp.GetRequiredService<ILocalClassifier>(), sp.GetRequiredService<ClassificationCache>(), sp.GetService<AiProvider>(), sp.GetService<DeepTier>(),
            sp.GetRequiredService<Taxonomy>())
        { Explain = false });
        services.AddSingleton(builder.Options<AlertOptions>().AlertRule);
        services.AddSingleton<ProvisionalUpgrades>();
        services.AddSingleton<SubmitHandler>();
        services.AddSingleton(new SweepSettings(TimeSpan.FromSeconds(llm.AiSweepSeconds), BatchSize: 200, Parallelism: Math.Max(1, llm.AiMaxConcurrency / 2),
            Lease: (2 * TimeSpan.FromMilliseconds(llm.AiTimeoutMs)) + TimeSpan.FromSeconds(5)));
        services.AddSingleton<RevisionSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RevisionSweeper>());
        if (llm.AiConfigured)
        {
            services.AddLlm(llm);
        }

        return builder;
    }

    /// <summary>The alert policy, the channels configured, their outbox dispatcher and the spike detector.</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var alertSettings = builder.Options<AlertOptions>().AlertSettings;
        services.AddSingleton(alertSettings);
        services.AddSingleton(builder.Options<AlertOptions>().Policy(DeepHeads.Default.Taxonomy));
        services.AddSingleton<AlertSignal>();
        services.AddSingleton(sp => new SharedAlertGroups(sp.GetService<RedisLink>(), sp.GetRequiredService<AlertPolicy>()));
        services.AddSingleton<AlertMetrics>();
        services.AddSingleton<IAlertChannel, LogChannel>();
        foreach (var name in new[] { "slack", "webhook", "pagerduty" })
        {
            // Slack asks for an answer within 3 s; the outbox retries, so no request waits longer.
            services.AddHttpClient(name, client => client.Timeout = TimeSpan.FromSeconds(3));
        }

        if (alertSettings.SlackWebhookUrl is not null)
        {
            services.AddSingleton<IAlertChannel, SlackChannel>();
        }

        if (alertSettings.WebhookUrl is not null)
        {
            services.AddSingleton<IAlertChannel, WebhookChannel>();
        }

        if (alertSettings.PagerDutyRoutingKey is not null)
        {
            services.AddSingleton<IAlertChannel, PagerDutyChannel>();
        }

        services.AddHostedService<AlertDispatcher>();
        services.AddSingleton(builder.Options<SpikeOptions>().SpikeSettings);
        services.AddHostedService<SpikeDetector>();
        return builder;
    }

    /// <summary>
    /// With REDIS_URL, the connection the shared cache, rate limits and alert grouping use; without it nothing is
    /// registered and each of them works in-process.
    /// </summary>
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder)
    {
        var settings = builder.Options<RedisOptions>();
        if (settings.Configured)
        {
            var answersLiveFor = TimeSpan.FromSeconds(builder.Options<AnalysisOptions>().CacheTtlSeconds);
            builder.Services.AddSingleton(sp => new RedisLink(
                RedisLink.ParseUrl(settings.RedisUrl!), settings.RedisKeyPrefix, sp.GetRequiredService<IMeterFactory>(),
                sp.GetRequiredService<ILogger<RedisLink>>()));
            builder.Services.AddSingleton<ISharedAnswers>(sp => new RedisAnswers(sp.GetRequiredService<RedisLink>(), answersLiveFor));
        }

        return builder;
    }

    /// <summary>The LLM over a typed HttpClient, guarded by <see cref="AiProvider"/>.</summary>
    private static void AddLlm(this IServiceCollection services, LlmSettings settings)
    {
        var timeout = TimeSpan.FromMilliseconds(settings.AiTimeoutMs);
        services.AddHttpClient("llm", client => client.Timeout = timeout + TimeSpan.FromSeconds(1));
        if (settings.LlmTokenBudgetMonthly is not null)
        {
            services.AddSingleton<ILlmBudget>(sp =>
            {
                var reads = sp.GetRequiredService<IBackgroundReads>();
                return new StoredLlmBudget(
                    reads.LlmUsageAsync, settings.Pricing, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StoredLlmBudget>>());
            });
        }

        services.AddSingleton(sp => LlmClassifier.Create(
            settings.OpenAiBaseUrl, settings.OpenAiApiKey, settings.OpenAiModel, timeout,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient("llm"), sp.GetRequiredService<Taxonomy>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            var canary = settings.Canary is { } c ? (PromptLibrary.Get(c.Name), c.Percent) : ((PromptVersion, int)?)null;
            var options = new AiOptions
            {
                Model = settings.OpenAiModel,
                Deadline = TimeSpan.FromMilliseconds(settings.AiDeadlineMs),
                CallTimeout = timeout,
                MaxConcurrency = settings.AiMaxConcurrency,
                CircuitFailures = settings.AiCircuitFailures,
                CircuitBreak = TimeSpan.FromSeconds(settings.AiCircuitBreakSeconds),
                Prompt = PromptLibrary.Get(settings.PromptVersion),
                Canary = canary,
                Redact = settings.RedactPii ? PiiRedactor.Redact : null,
            };
            return new AiProvider(
                sp.GetRequiredService<LlmClassifier>(), options, sp.GetRequiredService<ClassificationCache>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<AnalysisMetrics>(), sp.GetService<ISharedAnswers>(), sp.GetService<ILlmBudget>());
        });
    }
}
