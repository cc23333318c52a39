namespace Feedback.Analysis;

/// <summary>Probabilities of the four sentiments; they sum to 1.</summary>
public sealed record SentimentScores(double Positive, double Negative, double Neutral, double Mixed)
{
    public static SentimentScores Uniform { get; } = new(0.25, 0.25, 0.25, 0.25);

    /// <summary>The sentiments in enum order, once: <c>Enum.GetValues</c> allocates a new array at every call.</summary>
    private static readonly Sentiment[] InOrder = Enum.GetValues<Sentiment>();

    public double this[Sentiment sentiment] => sentiment switch
    {
        Sentiment.Positive => Positive,
        Sentiment.Negative => Negative,
        Sentiment.Neutral => Neutral,
        Sentiment.Mixed => Mixed,
        _ => throw new ArgumentOutOfRangeException(nameof(sentiment)),
    };

    /// <summary>The most probable sentiment; ties resolve in enum order.</summary>
    public Sentiment Top()
    {
        var best = Sentiment.Positive;
        foreach (var candidate in InOrder)
        {
            if (this[candidate] > this[best])
            {
                best = candidate;
            }
        }

        return best;
    }
}

/// <summary>
/// Probabilities of topics, summing to 1: of the built-in six from the lexical model, of the taxonomy's from the deep one.
/// </summary>
public sealed record TopicScores(IReadOnlyList<Topic> Topics, IReadOnlyList<double> Values)
{
    public double this[Topic topic]
    {
        get
        {
            for (var i = 0; i < Topics.Count; i++)
            {
                if (Topics[i] == topic)
                {
                    return Values[i];
                }
            }

            return 0;
        }
    }

    /// <summary>
    /// What the answer says about each of <paramref name="taxonomy"/>'s topics: a topic's own score plus those of the
    /// built-in topics that count as it, so answers of the lexical model fit any taxonomy and still sum to 1.
    /// </summary>
    public double[] Over(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var result = new double[taxonomy.Topics.Count];
        for (var i = 0; i < Topics.Count; i++)
        {
            var at = taxonomy.IndexOf(Topics[i]);
            result[at >= 0 ? at : taxonomy.IndexOf(taxonomy.FromBuiltIn(Topics[i]))] += Values[i];
        }

        return result;
    }

    /// <summary>All of the probability on one topic: an answer that names its topic and no more (the LLM's).</summary>
    public static TopicScores OnlyOn(Topic topic, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var mapped = taxonomy.Contains(topic) ? topic : taxonomy.FromBuiltIn(topic);
        return new(taxonomy.Topics, [.. taxonomy.Topics.Select(t => t == mapped ? 1.0 : 0.0)]);
    }
}

/// <summary>What a classifier decided about one message, and why.</summary>
/// <param name="Confidence">Probability that <paramref name="Sentiment"/> is right.</param>
/// <param name="Language">ISO 639-1 code, or "und" when it cannot be told.</param>
/// <param name="Reasons">Short human-readable evidence, most important first (words, clauses, topic phrases).</param>
public sealed record Classification(
    Sentiment Sentiment,
    Topic Topic,
    double Confidence,
    SentimentScores Scores,
    string Language,
    IReadOnlyList<string> Reasons)
{
    /// <summary>Probability that <see cref="Topic"/> is right, when the classifier can tell; evaluation uses it for calibration.</summary>
    public double? TopicConfidence { get; init; }

    /// <summary>Probability of every topic the classifier knows, summing to 1, when it has them.</summary>
    public TopicScores? TopicScores { get; init; }

    /// <summary>
    /// The message's sentence vector (all-MiniLM-L6-v2, unit length) when the deep classifier read it: stored with the
    /// row for similarity search, so the message is never encoded twice.
    /// </summary>
    public float[]? Embedding { get; init; }

    /// <summary>
    /// Probability that a person at the company must act on the message, from the deep model's action head; null from the
    /// lexical model and the LLM, which give sentiments only. When present the default alert rule reads it instead of the
    /// sentiment probabilities: a polite, factual failure report needs a person without being negative, a mild gripe is
    /// negative and needs nobody.
    /// </summary>
    public double? ActionProbability { get; init; }

    public ConfidenceLevel ConfidenceLevel => Confidence switch
    {
        > 0.80 => ConfidenceLevel.High,
        >= 0.50 => ConfidenceLevel.Medium,
        _ => ConfidenceLevel.Low,
    };
}

/// <summary>A classifier that runs in-process with no network.</summary>
public interface ILocalClassifier
{
    /// <summary>Changes whenever the same text could get a different answer (cache keys include it).</summary>
    string Version { get; }

    Classification Classify(string text);

    /// <summary>
    /// The same labels and probabilities as <see cref="Classify"/> with no <see cref="Classification.Reasons"/>, for bulk
    /// work that stores no explanation: writing the reasons is a good part of a classification's time and allocations.
    /// </summary>
    Classification ClassifyWithoutReasons(string text) => Classify(text);
}
