namespace Feedback.Analysis.Local.Model;

/// <summary>One message read every way the model needs: tokens, language, taxonomy, VADER evidence and features.</summary>
/// <remarks>Tokens and features live in per-thread buffers: use them before the next message on this thread.</remarks>
internal readonly record struct AnalysedText(
    TokenizedText Tokens,
    FeatureVector Features,
    SentimentEvidence Evidence,
    TopicDecision Taxonomy,
    string Language);

/// <summary>The same feature pipeline for training and for classification, so the two cannot drift apart.</summary>
internal sealed class FeaturePipeline(SentimentLexicon lexicon, TopicClassifier topics, LanguageDetector languages)
{
    private readonly Vader vader = new(lexicon);

    public static FeaturePipeline Default { get; } = new(SentimentLexicon.Default, TopicClassifier.Default, LanguageDetector.Default);

    /// <param name="detectLanguage">False leaves the language <see cref="LanguageDetector.Undetermined"/>: the sentences of a long message are scored for sentiment only.</param>
    public AnalysedText Run(string text, ClauseModel? clauses, bool detectLanguage = true)
    {
        var tokens = TokenizedText.For(text, lexicon);
        var language = detectLanguage ? languages.Detect(tokens) : LanguageDetector.Undetermined;
        var taxonomy = topics.Classify(tokens);
        var evidence = vader.Analyze(tokens);
        Span<float> scores = stackalloc float[FeatureLayout.TaxonomyTopics.Length];
        foreach (var match in taxonomy.Matches)
        {
            var slot = Array.IndexOf(FeatureLayout.TaxonomyTopics, match.Topic);
            if (slot >= 0)
            {
                scores[slot] += (float)match.Weight;
            }
        }

        var features = FeatureExtractor.Extract(tokens, evidence, scores, clauses);
        return new AnalysedText(tokens, features, evidence, taxonomy, language);
    }
}
