namespace Feedback.Analysis;

/// <summary>What the service answers for one message.</summary>
/// <param name="Model">The classifier that decided: the local classifier's version, or the LLM's model name.</param>
/// <param name="PromptVersion">The prompt used when an LLM decided; null otherwise.</param>
public sealed record AnalysisResult(
    Classification Classification,
    ProcessingMethod Method,
    string Model,
    string? PromptVersion,
    IReadOnlyList<string> Warnings,
    bool CacheHit);

/// <summary>
/// The policy: input rules first, then the cache, then a classifier. Every caller (API, CLI, batch)
/// goes through here so they all answer the same way.
/// </summary>
public sealed class Analyzer(ILocalClassifier local, ClassificationCache cache)
{
    public const string ValidationModel = "rules";

    public string LocalVersion => local.Version;

    public AnalysisResult Analyze(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (TextRules.Length(trimmed) < TextRules.MinAnalysedLength)
        {
            return TooShort;
        }

        IReadOnlyList<string> warnings = [];
        var analysed = trimmed;
        if (TextRules.Length(trimmed) > TextRules.MaxAnalysedLength)
        {
            analysed = TextRules.Truncate(trimmed, TextRules.MaxAnalysedLength);
            warnings = [$"text is longer than {TextRules.MaxAnalysedLength} characters: it was stored whole and analysed on the first {TextRules.MaxAnalysedLength}"];
        }

        var normalised = TextRules.Normalise(analysed);
        var key = TextRules.KeyFor(normalised, local.Version);
        var hit = cache.TryGet(key, out var classification);
        if (!hit)
        {
            classification = local.Classify(normalised);
            cache.Set(key, classification);
        }

        return new AnalysisResult(classification, ProcessingMethod.MlFallback, local.Version, null, warnings, hit);
    }

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
