using Feedback.Analysis.Llm;

namespace Feedback.Analysis;

/// <summary>What the service answers for one message.</summary>
/// <param name="Model">The classifier that decided: the local classifier's version, or the LLM's model name.</param>
/// <param name="PromptVersion">The prompt used when an LLM decided; null otherwise.</param>
/// <param name="Provisional">The local answer stands in while the LLM's is still coming.</param>
public sealed record AnalysisResult(
    Classification Classification,
    ProcessingMethod Method,
    string Model,
    string? PromptVersion,
    IReadOnlyList<string> Warnings,
    bool CacheHit,
    bool Provisional = false);

/// <summary>An answer now and, when it is provisional, the LLM's answer to come (null if the LLM gave none).</summary>
public sealed record AnalysisOutcome(AnalysisResult Result, Task<AnalysisResult?>? Upgrade);

/// <summary>
/// The policy: input rules first, then the cache (this instance's, then the one instances share), then the LLM
/// within its deadline when one is configured, with the local classifier as the answer whenever the LLM is slow,
/// down or wrong. Every caller (API, CLI, batch) goes through here so they all answer the same way.
/// </summary>
public sealed class Analyzer(ILocalClassifier local, ClassificationCache cache, AiProvider? ai = null)
{
    public const string ValidationModel = "rules";

    public string LocalVersion => local.Version;

    public AiProvider? Ai => ai;

    /// <summary>
    /// False for bulk work that stores no reasons (the import): the same labels and probabilities, without the cost of
    /// explaining them. The cache then holds answers without reasons, so such an analyzer needs a cache of its own.
    /// </summary>
    public bool Explain { get; init; } = true;

    /// <summary>The local answer only: what the CLI and the evaluation use, and the fallback of every request.</summary>
    public AnalysisResult Analyze(string text) => Prepare(text).Local;

    public async ValueTask<AnalysisOutcome> AnalyzeAsync(string text, CancellationToken cancellationToken)
    {
        var prepared = Prepare(text);
        var localResult = prepared.Local;
        if (ai is null || localResult.Method == ProcessingMethod.Validation)
        {
            return new AnalysisOutcome(localResult, null);
        }

        var prompt = ai.PromptFor(prepared.Key);
        var cached = ai.TryGetCached(prepared.Key, prompt, out var known) ? known : await ai.GetSharedAsync(prepared.Key, prompt);
        if (cached is not null)
        {
            return new AnalysisOutcome(AiResult(cached, prompt, localResult.Warnings, cacheHit: true), null);
        }

        if (!ai.Circuit.TryAcquire())
        {
            ai.CountFallback("circuit_open");
            return new AnalysisOutcome(localResult, null);
        }

        if (!ai.TryReserveSlot())
        {
            // Every slot is busy: answer now and let the background sweep ask the LLM later.
            ai.CountFallback("busy");
            return new AnalysisOutcome(localResult with { Provisional = true }, null);
        }

        var call = CallAsync(prepared, prompt);
        var deadline = Task.Delay(ai.Options.Deadline, ai.Time, cancellationToken);
        if (await Task.WhenAny(call, deadline) == call)
        {
            return new AnalysisOutcome(await call ?? localResult, null);
        }

        ai.CountFallback("deadline");
        return new AnalysisOutcome(localResult with { Provisional = true }, call);
    }

    /// <summary>
    /// Asks the LLM with no deadline, for a stored provisional answer. <c>Attempted</c> is false when the LLM
    /// could not be asked now (none configured, circuit open, every slot busy): try again later. Otherwise
    /// <c>Result</c> is the LLM's answer, or null when it gave none and the local answer should stand.
    /// </summary>
    public async Task<(bool Attempted, AnalysisResult? Result)> UpgradeAsync(string text)
    {
        var prepared = Prepare(text);
        if (ai is null || prepared.Local.Method == ProcessingMethod.Validation)
        {
            return (ai is not null, null);
        }

        var prompt = ai.PromptFor(prepared.Key);
        var cached = ai.TryGetCached(prepared.Key, prompt, out var known) ? known : await ai.GetSharedAsync(prepared.Key, prompt);
        if (cached is not null)
        {
            return (true, AiResult(cached, prompt, prepared.Local.Warnings, cacheHit: true));
        }

        if (!ai.Circuit.TryAcquire())
        {
            return (false, null);
        }

        if (!ai.TryReserveSlot())
        {
            return (false, null);
        }

        return (true, await CallAsync(prepared, prompt));
    }

    private async Task<AnalysisResult?> CallAsync(Prepared prepared, PromptVersion prompt)
    {
        var classification = await ai!.CallAsync(prepared.Analysed, prepared.Key, prompt, prepared.Local.Classification.Language);
        return classification is null ? null : AiResult(classification, prompt, prepared.Local.Warnings, cacheHit: false);
    }

    private AnalysisResult AiResult(Classification classification, PromptVersion prompt, IReadOnlyList<string> warnings, bool cacheHit) =>
        new(classification, ProcessingMethod.Ai, ai!.Model, prompt.Name, warnings, cacheHit);

    private Prepared Prepare(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (TextRules.IsShorterThan(trimmed, TextRules.MinAnalysedLength))
        {
            return new Prepared(TooShort, trimmed, default);
        }

        IReadOnlyList<string> warnings = [];
        var analysed = trimmed;
        if (TextRules.IsLongerThan(trimmed, TextRules.MaxAnalysedLength))
        {
            analysed = TextRules.Truncate(trimmed, TextRules.MaxAnalysedLength);
            warnings = [$"text is longer than {TextRules.MaxAnalysedLength} characters: it was stored whole and analysed on the first {TextRules.MaxAnalysedLength}"];
        }

        var normalised = TextRules.Normalise(analysed);
        var key = TextRules.KeyFor(normalised, local.Version);
        var hit = cache.TryGet(key, out var classification);
        if (!hit)
        {
            classification = Explain ? local.Classify(normalised) : local.ClassifyWithoutReasons(normalised);
            cache.Set(key, classification);
        }

        return new Prepared(new AnalysisResult(classification, ProcessingMethod.MlFallback, local.Version, null, warnings, hit), normalised, key);
    }

    private readonly record struct Prepared(AnalysisResult Local, string Analysed, CacheKey Key);

    private static readonly AnalysisResult TooShort = new(
        new Classification(
            Sentiment.Neutral,
            Topic.General,
            SentimentScores.Uniform.Neutral,
            SentimentScores.Uniform,
            "und",
            [$"shorter than {TextRules.MinAnalysedLength} characters: too little to analyse"]),
        ProcessingMethod.Validation,
        ValidationModel,
        null,
        [],
        false);
}
