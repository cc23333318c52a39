using System.Globalization;

namespace Feedback.Analysis.Local;

/// <summary>
/// The lexicon-only classifier (the first <c>ml_fallback</c>): VADER plus a product-feedback lexicon for
/// sentiment, weighted phrases for topic, function words for language. Kept as the baseline that the
/// trained <see cref="LocalClassifier"/> is measured against. Thread-safe; create one and share it.
/// </summary>
internal sealed class LexiconClassifier : ILocalClassifier
{
    /// <summary>Bump whenever a lexicon, rule or weight changes what any text is classified as.</summary>
    public const string CurrentVersion = "lexicon-1";

    private const int ReasonTextLength = 60;

    private readonly Vader vader;
    private readonly TopicClassifier topics;
    private readonly LanguageDetector languages;

    /// <summary>Uses the lexicons embedded in this assembly (loaded once per process, on first use).</summary>
    public LexiconClassifier()
        : this(SentimentLexicon.Default, TopicClassifier.Default, LanguageDetector.Default)
    {
    }

    internal LexiconClassifier(SentimentLexicon lexicon, TopicClassifier topics, LanguageDetector languages)
    {
        vader = new Vader(lexicon);
        this.topics = topics;
        this.languages = languages;
    }

    public string Version => CurrentVersion;

    public Classification Classify(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = TokenizedText.For(text, vader.Lexicon);
        var language = languages.Detect(tokens);
        var topic = topics.Classify(tokens);
        var evidence = vader.Analyze(tokens);

        var scores = SentimentModel.Probabilities(evidence);
        var isForeign = language is not LanguageDetector.English and not LanguageDetector.Undetermined;
        if (isForeign)
        {
            scores = SentimentModel.Cap(scores, SentimentModel.ForeignLanguageCeiling);
        }

        var sentiment = scores.Top();
        var reasons = Reasons(text, sentiment, scores, evidence, topic, isForeign ? language : null);
        return new Classification(sentiment, topic.Topic, scores[sentiment], scores, language, reasons)
        {
            TopicConfidence = topic.Probability,
        };
    }

    /// <summary>The sentiment evidence alone (overall VADER scores, clauses, cues), for diagnostics and tests.</summary>
    internal SentimentEvidence Explain(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return vader.Analyze(text);
    }

    private static List<string> Reasons(string text, Sentiment sentiment, SentimentScores scores, SentimentEvidence evidence, TopicDecision topic, string? foreignLanguage)
    {
        var reasons = new List<string>(5);
        var summary = string.Create(CultureInfo.InvariantCulture, $"{WireNames.Of(sentiment)} p={scores[sentiment]:0.00} (compound {evidence.Overall.Compound:+0.00;-0.00;0})");
        if (sentiment == Sentiment.Mixed)
        {
            var praise = evidence.Clauses.MaxBy(c => c.Compound);
            var complaint = evidence.Clauses.MinBy(c => c.Compound);
            reasons.Add(summary + ": praise and complaint in separate clauses");
            reasons.Add(Clause(text, praise));
            reasons.Add(Clause(text, complaint));
        }
        else
        {
            reasons.Add(summary);
        }

        var cues = evidence.Cues.Take(3).Select(c => string.Create(CultureInfo.InvariantCulture, $"\"{Excerpt(text, c.Start, c.Length)}\" {c.Valence:+0.0;-0.0}")).ToList();
        reasons.Add(cues.Count == 0 ? "no sentiment words" : "words: " + string.Join(", ", cues));

        reasons.Add(topic.Matches.Count == 0
            ? "topic general: no topic phrase matched"
            : string.Create(CultureInfo.InvariantCulture, $"topic {WireNames.Of(topic.Topic)} p={topic.Probability:0.00}: ")
              + string.Join(", ", topic.Matches.Take(4).Select(m => string.Create(CultureInfo.InvariantCulture, $"{WireNames.Of(m.Topic)} \"{m.Phrase}\" +{m.Weight:0.0}"))));

        if (foreignLanguage is not null)
        {
            reasons.Add($"language {foreignLanguage}: the lexicon is English, confidence capped low");
        }

        return reasons;
    }

    private static string Clause(string text, ClauseScore clause) =>
        string.Create(CultureInfo.InvariantCulture, $"clause \"{Excerpt(text, clause.Start, clause.Length)}\" {clause.Compound:+0.00;-0.00;0}");

    private static string Excerpt(string text, int start, int length) =>
        length <= ReasonTextLength ? text.Substring(start, length) : string.Concat(text.AsSpan(start, ReasonTextLength - 1), "…");
}
