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

    /// <summary>Probability of every topic in enum order, summing to 1, when the classifier has them.</summary>
    public IReadOnlyList<double>? TopicScores { get; init; }

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
