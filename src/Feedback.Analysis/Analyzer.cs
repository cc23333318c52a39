using System.Diagnostics.CodeAnalysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Llm;

namespace Feedback.Analysis;

/// <summary>What the service answers for one message.</summary>
/// <param name="Model">The classifier that decided: the local classifier's version, or the LLM's model name.</param>
/// <param name="PromptVersion">The prompt used when an LLM decided; null otherwise.</param>
/// <param name="Provisional">The lexical answer stands in while the deep model's or the LLM's is still coming.</param>
public sealed record AnalysisResult(
    Classification Classification,
    ProcessingMethod Method,
    string Model,
    string? PromptVersion,
    IReadOnlyList<string> Warnings,
    bool CacheHit,
    bool Provisional = false);

/// <summary>
/// An answer now and, when it is provisional, the better answer to come; <paramref name="Usage"/> is what the LLM calls
/// made for the answer now cost, stored with it (a call still running is counted with the answer it brings later).
/// </summary>
public sealed record AnalysisOutcome(AnalysisResult Result, Task<LaterAnswer>? Upgrade, LlmUsage Usage = default);

/// <summary>
/// What asking again gave for an answer already given: a better one, or null when the one given should stand; and what
/// the LLM calls on the way cost, which is counted whether or not an answer came of them. <paramref name="Attempted"/> is
/// false when nobody could be asked now (circuit open, every slot busy): try again later. <paramref name="BudgetSpent"/>
/// says the LLM was not asked because the month's token budget is spent.
/// </summary>
public sealed record LaterAnswer(AnalysisResult? Result, LlmUsage Usage, bool Attempted = true, bool BudgetSpent = false)
{
    public static LaterAnswer NotAttempted { get; } = new(null, LlmUsage.None, Attempted: false);
}

/// <summary>
/// The policy: input rules first, then the cache (this instance's, then the one instances share), then the LLM
/// within its deadline when one is configured, with the local classifier as the answer whenever the LLM is slow,
/// down or wrong. The local classifier is the deep one (<paramref name="deep"/>: the encoder and trained heads) when
/// it is configured, within its own budget, and the lexical one (<paramref name="local"/>) when it is not, when the
/// deep one cannot answer in time, or on a small machine. Every caller (API, CLI, batch) goes through here so they
/// all answer the same way.
/// </summary>
public sealed class Analyzer(ILocalClassifier local, ClassificationCache cache, AiProvider? ai = null, DeepTier? deep = null, Taxonomy? taxonomy = null)
{
    public const string ValidationModel = "rules";

    /// <summary>The warning of an answer the local classifier gave because the month's LLM token budget is spent.</summary>
    public const string BudgetExhausted = "llm_budget_exhausted";

    /// <summary>The topics answers carry: the deep model's unless given; the lexical model's built-in ones map into them.</summary>
    public Taxonomy Taxonomy { get; } = taxonomy ?? deep?.Classifier.Heads.Taxonomy ?? Taxonomy.BuiltIn;

    /// <summary>The version of the local answers: the deep model's when it is configured.</summary>
    public string LocalVersion => deep?.Version ?? local.Version;

    public AiProvider? Ai => ai;

    public DeepTier? Deep => deep;

    /// <summary>
    /// False for bulk work that stores no reasons (the import): the same labels and probabilities, without the cost of
    /// explaining them. The cache then holds answers without reasons, so such an analyzer needs a cache of its own.
    /// </summary>
    public bool Explain { get; init; } = true;

    /// <summary>The local answer only, with no deadline: what the CLI and the evaluation use.</summary>
    public AnalysisResult Analyze(string text) => AnalyzeMany([text])[0];

    /// <summary>
    /// Local answers for many messages, with no deadline: the deep model encodes the ones it must answer in batches,
    /// which is several times faster than one by one (the import, reclassify, evaluation).
    /// </summary>
    public AnalysisResult[] AnalyzeMany(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var prepared = texts.Select(Prepare).ToArray();
        var results = prepared.Select(p => p.Local).ToArray();
        if (deep is null)
        {
            return results;
        }

        var open = Enumerable.Range(0, prepared.Length).Where(i => !prepared[i].Settled).ToArray();
        var vectors = deep.Classifier.Encoder.Encode([.. open.Select(i => prepared[i].Analysed)]);
        for (var k = 0; k < open.Length; k++)
        {
            var i = open[k];
            results[i] = Remember(prepared[i], deep.Classifier.Combine(prepared[i].Analysed, prepared[i].Local.Classification, vectors[k], Explain));
        }

        return results;
    }

    public async ValueTask<AnalysisOutcome> AnalyzeAsync(string text, CancellationToken cancellationToken)
    {
        var prepared = Prepare(text);
        if (prepared.Settled && (ai is null || prepared.Local.Method == ProcessingMethod.Validation))
        {
            return new AnalysisOutcome(prepared.Local, null);
        }

        // The deep model starts at once, so it is ready as the LLM's fallback as well as the answer without one.
        var started = ai?.Time.GetTimestamp() ?? 0;
        var deepAnswer = !prepared.Settled && TryStartDeep(prepared, out var queued) ? queued : null;
        var budget = deep?.Options.Budget ?? TimeSpan.Zero;
        if (ai is null)
        {
            return await LocalOutcomeAsync(prepared, deepAnswer, budget, cancellationToken);
        }

        var prompt = ai.PromptFor(prepared.Key);
        var cached = ai.TryGetCached(prepared.Key, prompt, out var known) ? known : await ai.GetSharedAsync(prepared.Key, prompt);
        if (cached is not null)
        {
            var remembered = AiResult(cached, prompt, prepared.Local.Warnings, cacheHit: true);
            return new AnalysisOutcome(await WithEmbeddingAsync(remembered, deepAnswer, budget, cancellationToken), null);
        }

        if (await ai.BudgetSpentAsync(cancellationToken))
        {
            // Until the month turns the local classifier answers, and the answer says why the LLM did not.
            var instead = await LocalOutcomeAsync(prepared, deepAnswer, budget, cancellationToken);
            return instead with { Result = instead.Result with { Warnings = [.. instead.Result.Warnings, BudgetExhausted] } };
        }

        var admission = ai.TryAdmit();
        if (admission == CallAdmission.CircuitOpen)
        {
            ai.CountFallback("circuit_open");
            return await LocalOutcomeAsync(prepared, deepAnswer, budget, cancellationToken);
        }

        if (admission == CallAdmission.Busy)
        {
            // Every slot is busy: answer now and let the background sweep ask the LLM later.
            ai.CountFallback("busy");
            var now = await LocalOutcomeAsync(prepared, deepAnswer, budget, cancellationToken);
            return new AnalysisOutcome(now.Result with { Provisional = true }, null);
        }

        var call = CallAsync(prepared, prompt);
        var deadline = Task.Delay(ai.Options.Deadline, ai.Time, cancellationToken);
        if (await Task.WhenAny(call, deadline) == call && (await call).Answer is { } answered)
        {
            return new AnalysisOutcome(await WithEmbeddingAsync(answered, deepAnswer, budget, cancellationToken), null, (await call).Usage);
        }

        if (!call.IsCompleted)
        {
            ai.CountFallback("deadline");
            var deepGiven = deepAnswer is { IsCompletedSuccessfully: true, Result: not null };
            var fallback = deepGiven ? deepAnswer!.Result! : prepared.Local;
            return new AnalysisOutcome(fallback with { Provisional = true }, LlmThenDeepAsync(call, deepAnswer, deepGiven));
        }

        // The LLM answered in time with nothing usable: the local answer decides, within what is left of the budget.
        var fallen = await LocalOutcomeAsync(prepared, deepAnswer, budget - ai.Time.GetElapsedTime(started), cancellationToken);
        return fallen with { Usage = (await call).Usage };
    }

    /// <summary>
    /// Asks again, with no deadline, for a stored provisional answer: the LLM when one is configured (the deep model
    /// when it gives nothing usable, or when the month's LLM budget is spent), else the deep model. The answer is not
    /// attempted when nobody could be asked now (circuit open, every slot busy): try again later. Otherwise its result
    /// is the better answer, or null when there is none and the stored answer should stand.
    /// </summary>
    public async Task<LaterAnswer> UpgradeAsync(string text, CancellationToken cancellationToken = default)
    {
        var prepared = Prepare(text);
        if (prepared.Local.Method == ProcessingMethod.Validation)
        {
            return ai is not null || deep is not null ? new LaterAnswer(null, LlmUsage.None) : LaterAnswer.NotAttempted;
        }

        if (ai is null)
        {
            // With neither the LLM nor the deep model there is nobody to ask: the stored answer stands.
            return deep is null ? LaterAnswer.NotAttempted : new LaterAnswer(prepared.Settled ? prepared.Local : await DeepAsync(prepared, cancellationToken), LlmUsage.None);
        }

        var prompt = ai.PromptFor(prepared.Key);
        var cached = ai.TryGetCached(prepared.Key, prompt, out var known) ? known : await ai.GetSharedAsync(prepared.Key, prompt);
        if (cached is not null)
        {
            return new LaterAnswer(await EmbeddedAsync(prepared, AiResult(cached, prompt, prepared.Local.Warnings, cacheHit: true), cancellationToken), LlmUsage.None);
        }

        if (await ai.BudgetSpentAsync(cancellationToken))
        {
            return new LaterAnswer(prepared.Settled || deep is null ? null : await DeepAsync(prepared, cancellationToken), LlmUsage.None, BudgetSpent: true);
        }

        if (ai.TryAdmit() != CallAdmission.Admitted)
        {
            return LaterAnswer.NotAttempted;
        }

        var (answer, usage) = await CallAsync(prepared, prompt);
        if (answer is not null)
        {
            return new LaterAnswer(await EmbeddedAsync(prepared, answer, cancellationToken), usage);
        }

        return new LaterAnswer(prepared.Settled || deep is null ? null : await DeepAsync(prepared, cancellationToken), usage);
    }

    /// <summary>An LLM answer for a stored row with the message's sentence vector, encoded now when the deep model is configured.</summary>
    private async Task<AnalysisResult> EmbeddedAsync(Prepared prepared, AnalysisResult answer, CancellationToken cancellationToken)
    {
        if (deep is null || prepared.Local.Method == ProcessingMethod.Validation)
        {
            return answer;
        }

        var vector = prepared.Local.Classification.Embedding
            ?? (prepared.Settled ? null : (await DeepAsync(prepared, cancellationToken))?.Classification.Embedding);
        return vector is null ? answer : answer with { Classification = answer.Classification with { Embedding = vector } };
    }

    /// <summary>The answer without the LLM: the deep one within the budget, else the lexical one as provisional.</summary>
    private async Task<AnalysisOutcome> LocalOutcomeAsync(Prepared prepared, Task<AnalysisResult?>? deepAnswer, TimeSpan budget, CancellationToken cancellationToken)
    {
        if (deepAnswer is null)
        {
            // Settled (cached, or the lexical model is the local one), or the deep queue is full: the sweep revises it.
            return new AnalysisOutcome(prepared.Settled ? prepared.Local : prepared.Local with { Provisional = true }, null);
        }

        if (!deepAnswer.IsCompleted && budget > TimeSpan.Zero)
        {
            await Task.WhenAny(deepAnswer, Task.Delay(budget, cancellationToken));
        }

        if (deepAnswer.IsCompletedSuccessfully && deepAnswer.Result is { } answered)
        {
            return new AnalysisOutcome(answered, null);
        }

        return new AnalysisOutcome(prepared.Local with { Provisional = true }, deepAnswer.IsCompleted ? null : LaterAsync(deepAnswer));
    }

    /// <summary>The deep model's answer as the answer to come: it costs no LLM tokens.</summary>
    private static async Task<LaterAnswer> LaterAsync(Task<AnalysisResult?> deepAnswer) => new(await deepAnswer, LlmUsage.None);

    /// <summary>Queues the message for the deep model: false without one, or when its queue is full.</summary>
    private bool TryStartDeep(Prepared prepared, [NotNullWhen(true)] out Task<AnalysisResult?>? answer)
    {
        answer = deep is not null && deep.TryClassify(prepared.Analysed, prepared.Local.Classification, Explain, out var pending)
            ? RememberAsync(prepared, pending)
            : null;
        return answer is not null;
    }

    private async Task<AnalysisResult?> RememberAsync(Prepared prepared, Task<Classification> pending) => Remember(prepared, await pending);

    private async Task<AnalysisResult?> DeepAsync(Prepared prepared, CancellationToken cancellationToken) =>
        await deep!.ClassifyAsync(prepared.Analysed, prepared.Local.Classification, Explain, cancellationToken) is { } classification
            ? Remember(prepared, classification)
            : null;

    /// <summary>
    /// The LLM's answer with the sentence vector of the deep answer that ran beside it, waiting for it no longer than
    /// the deep budget: the message is encoded once, and similarity search finds it whoever decided its labels.
    /// </summary>
    private static async Task<AnalysisResult> WithEmbeddingAsync(AnalysisResult answer, Task<AnalysisResult?>? deepAnswer, TimeSpan budget, CancellationToken cancellationToken)
    {
        if (deepAnswer is null || answer.Classification.Embedding is not null)
        {
            return answer;
        }

        if (!deepAnswer.IsCompleted && budget > TimeSpan.Zero)
        {
            await Task.WhenAny(deepAnswer, Task.Delay(budget, cancellationToken));
        }

        return deepAnswer.IsCompletedSuccessfully && deepAnswer.Result?.Classification.Embedding is { } vector
            ? answer with { Classification = answer.Classification with { Embedding = vector } }
            : answer;
    }

    /// <summary>What replaces a provisional answer given while the LLM was late: its answer, else the deep model's.</summary>
    private static async Task<LaterAnswer> LlmThenDeepAsync(Task<(AnalysisResult? Answer, LlmUsage Usage)> call, Task<AnalysisResult?>? deepAnswer, bool deepGiven)
    {
        var (answered, usage) = await call;
        if (answered is not null)
        {
            // The deep model had the whole LLM call to finish: its vector goes with the LLM's labels.
            if (deepAnswer is not null)
            {
                await Task.WhenAny(deepAnswer);
            }

            return new LaterAnswer(await WithEmbeddingAsync(answered, deepAnswer, TimeSpan.Zero, CancellationToken.None), usage);
        }

        // The LLM gave nothing usable: the deep answer, unless it is the one given already (null: it stands).
        return new LaterAnswer(deepAnswer is null || deepGiven ? null : await deepAnswer, usage);
    }

    private AnalysisResult Remember(Prepared prepared, Classification classification)
    {
        cache.Set(prepared.Key, classification);
        return new AnalysisResult(classification, ProcessingMethod.MlFallback, deep!.Version, null, prepared.Local.Warnings, false);
    }

    private async Task<(AnalysisResult? Answer, LlmUsage Usage)> CallAsync(Prepared prepared, PromptVersion prompt)
    {
        var (classification, usage) = await ai!.CallAsync(prepared.Analysed, prepared.Key, prompt, prepared.Local.Classification.Language);
        return (classification is null ? null : AiResult(classification, prompt, prepared.Local.Warnings, cacheHit: false), usage);
    }

    private AnalysisResult AiResult(Classification classification, PromptVersion prompt, IReadOnlyList<string> warnings, bool cacheHit) =>
        new(classification, ProcessingMethod.Ai, ai!.Model, prompt.Name, warnings, cacheHit);

    /// <summary>
    /// The input rules, the cache and the lexical model. <c>Settled</c>: the answer is the local one already (a
    /// validation answer, a cache hit, or the lexical model is the only local one); otherwise the deep model decides.
    /// </summary>
    private Prepared Prepare(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (TextRules.IsShorterThan(trimmed, TextRules.MinAnalysedLength))
        {
            return new Prepared(TooShort, trimmed, default, Settled: true);
        }

        IReadOnlyList<string> warnings = [];
        var analysed = trimmed;
        if (TextRules.IsLongerThan(trimmed, TextRules.MaxAnalysedLength))
        {
            analysed = TextRules.Truncate(trimmed, TextRules.MaxAnalysedLength);
            warnings = [$"text is longer than {TextRules.MaxAnalysedLength} characters: it was stored whole and analysed on the first {TextRules.MaxAnalysedLength}"];
        }

        var normalised = TextRules.Normalise(analysed);
        var key = TextRules.KeyFor(normalised, LocalVersion);
        if (cache.TryGet(key, out var cached))
        {
            return new Prepared(new AnalysisResult(cached, ProcessingMethod.MlFallback, LocalVersion, null, warnings, true), normalised, key, Settled: true);
        }

        var classification = InTaxonomy(Explain ? local.Classify(normalised) : local.ClassifyWithoutReasons(normalised));
        if (deep is null)
        {
            cache.Set(key, classification);
        }

        return new Prepared(new AnalysisResult(classification, ProcessingMethod.MlFallback, local.Version, null, warnings, false), normalised, key, Settled: deep is null);
    }

    /// <summary>
    /// The lexical answer with its topic one of the configured ones: the highest of its scores folded into them, so
    /// <c>topic</c> is the top of <c>topics</c>. Its built-in scores stay as they are: the deep heads read them.
    /// </summary>
    private Classification InTaxonomy(Classification lexical)
    {
        if (Taxonomy.IsBuiltIn)
        {
            return lexical;
        }

        if (lexical.TopicScores is not { } scores)
        {
            return Taxonomy.Contains(lexical.Topic) ? lexical : lexical with { Topic = Taxonomy.FromBuiltIn(lexical.Topic) };
        }

        var folded = scores.Over(Taxonomy);
        var best = Probabilities.Argmax(folded);
        return lexical with { Topic = Taxonomy.Topics[best], TopicConfidence = folded[best] };
    }

    private readonly record struct Prepared(AnalysisResult Local, string Analysed, CacheKey Key, bool Settled);

    private AnalysisResult TooShort => field ??= new(
        new Classification(
            Sentiment.Neutral,
            Taxonomy.Fallback,
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
