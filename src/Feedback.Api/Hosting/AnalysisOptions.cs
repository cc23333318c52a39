using Feedback.Analysis;

namespace Feedback.Api.Hosting;

/// <summary>Which local classifier answers, how the deep one batches, and the answer cache (CLASSIFIER, DEEP_*, ENCODER_*, CACHE_*).</summary>
internal sealed class AnalysisOptions
{
    /// <summary>
    /// <c>deep</c>: the sentence encoder and trained heads (classifier v2); <c>fast</c>: the lexical model alone, for
    /// small machines (bench/RESULTS.md has what each costs).
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

    [ConfigurationKeyName("CACHE_MAX_SIZE")]
    public int CacheMaxSize { get; set; } = 1000;

    [ConfigurationKeyName("CACHE_TTL_SECONDS")]
    public int CacheTtlSeconds { get; set; } = 3600;

    /// <summary>Deep unless <c>CLASSIFIER=fast</c>; an empty value is the default.</summary>
    public bool DeepClassifier => ClassifierChoice.TryParse(Classifier, out var deep) && deep;

    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (CacheMaxSize < 0)
        {
            failures.Add($"CACHE_MAX_SIZE must be 0 or more (got {CacheMaxSize}).");
        }

        if (CacheTtlSeconds < 0)
        {
            failures.Add($"CACHE_TTL_SECONDS must be 0 or more (got {CacheTtlSeconds}).");
        }

        if (!ClassifierChoice.TryParse(Classifier, out _))
        {
            failures.Add($"CLASSIFIER must be deep or fast (got '{Classifier}').");
        }

        if (DeepDeadlineMs is < 0 or > 10_000)
        {
            failures.Add($"DEEP_DEADLINE_MS must be between 0 and 10000 (got {DeepDeadlineMs}).");
        }

        if (EncoderThreads is < 0 or > 256)
        {
            failures.Add($"ENCODER_THREADS must be between 0 (one per core) and 256 (got {EncoderThreads}).");
        }

        if (EncoderBatchSize is < 1 or > 256)
        {
            failures.Add($"ENCODER_BATCH_SIZE must be between 1 and 256 (got {EncoderBatchSize}).");
        }

        return failures;
    }
}
