using System.Globalization;
using Feedback.Analysis.Local;

namespace Feedback.Analysis.Deep;

/// <summary>
/// Classifier v2: the lexical model reads the message, all-MiniLM-L6-v2 embeds it, the in-domain n-gram model reads its
/// words, and the trained heads decide from all three. Synchronous here (the CLI, evaluation, import); the service reaches it through <see cref="DeepTier"/>, which
/// batches encodings and keeps every answer inside the latency budget. Thread-safe.
/// </summary>
public sealed class DeepClassifier : ILocalClassifier
{
    private readonly Lazy<SentenceEncoder> encoder;

    public DeepClassifier(LocalClassifier lexical, Lazy<SentenceEncoder> encoder, DeepHeads heads)
    {
        Lexical = lexical;
        this.encoder = encoder;
        Heads = heads;
    }

    public LocalClassifier Lexical { get; }

    public DeepHeads Heads { get; }

    public SentenceEncoder Encoder => encoder.Value;

    public string Version => Heads.Version;

    public Classification Classify(string text) => ClassifyMany([text], explain: true)[0];

    public Classification ClassifyWithoutReasons(string text) => ClassifyMany([text], explain: false)[0];

    /// <summary>Many texts at once: the encoder runs them in batches, which is several times faster than one by one.</summary>
    public Classification[] ClassifyMany(IReadOnlyList<string> texts, bool explain)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = Encoder.Encode(texts);
        var answers = new Classification[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var lexical = explain ? Lexical.Classify(texts[i]) : Lexical.ClassifyWithoutReasons(texts[i]);
            answers[i] = Combine(texts[i], lexical, vectors[i], explain);
        }

        return answers;
    }

    /// <summary>The heads' answer for a message (as the classifiers read it) the lexical model has read and the encoder has embedded.</summary>
    public Classification Combine(string text, Classification lexical, float[] embedding, bool explain)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(lexical);
        ArgumentNullException.ThrowIfNull(embedding);
        var input = Heads.Input(text, embedding, lexical.Scores, TopicsOf(lexical));
        var (sentimentP, topicP, action) = Heads.Predict(input);
        var scores = new SentimentScores(sentimentP[0], sentimentP[1], sentimentP[2], sentimentP[3]);
        var sentiment = scores.Top();
        var best = Probabilities.Argmax(topicP);
        var topic = Heads.Taxonomy.Topics[best];
        IReadOnlyList<string> reasons = explain ? Reasons(lexical, scores, sentiment, topic, topicP[best], action) : [];
        return new Classification(sentiment, topic, scores[sentiment], scores, lexical.Language, reasons)
        {
            TopicConfidence = topicP[best],
            TopicScores = new TopicScores(Heads.Taxonomy.Topics, topicP),
            Embedding = embedding,
            ActionProbability = action,
        };
    }

    /// <summary>The lexical answer's probabilities of the built-in topics, in their order.</summary>
    internal static IReadOnlyList<double> TopicsOf(Classification lexical)
    {
        if (lexical.TopicScores is { } scores)
        {
            return [.. Topic.BuiltIn.Select(t => scores[t])];
        }

        // A classifier that gives only its top topic: that topic at its confidence, the rest shared evenly.
        var top = lexical.TopicConfidence ?? 0.5;
        var rest = (1 - top) / (DeepHeads.LexicalTopicCount - 1);
        return [.. Topic.BuiltIn.Select(t => t == lexical.Topic ? top : rest)];
    }

    private List<string> Reasons(Classification lexical, SentimentScores scores, Sentiment sentiment, Topic topic, double topicP, double action)
    {
        var reasons = new List<string>(lexical.Reasons.Count + 2)
        {
            string.Create(CultureInfo.InvariantCulture, $"{Version}: {WireNames.Of(sentiment)} p={scores[sentiment]:0.00}, topic {WireNames.Of(topic)} p={topicP:0.00}, a person must act p={action:0.00} (sentence encoder all-MiniLM-L6-v2, the lexical model and the in-domain n-gram model, heads trained on hand-written product feedback)"),
        };
        if (lexical.Sentiment != sentiment || lexical.Topic != topic)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"the lexical model alone said {WireNames.Of(lexical.Sentiment)} p={lexical.Confidence:0.00}, topic {WireNames.Of(lexical.Topic)}; the encoder's reading of the whole message outweighed it"));
        }

        reasons.AddRange(lexical.Reasons.Skip(1));
        return reasons;
    }
}
