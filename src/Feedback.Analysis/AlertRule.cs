using System.Globalization;

namespace Feedback.Analysis;

/// <summary>Where the alert decision sits on the precision–recall curve (<c>ALERT_SENSITIVITY</c>).</summary>
public enum AlertSensitivity
{
    Balanced,
    Recall,
    Precision,
}

/// <summary>
/// Which answers need a person: those whose probability of an alerting sentiment (negative or mixed by default) reaches
/// the sensitivity's threshold. The thresholds are three points of the precision–recall curve measured on the project's
/// held-out labelled rows (bench/ACCURACY.md). <see cref="MinimumConfidence"/>, when set (<c>ALERT_MIN_CONFIDENCE</c>),
/// keeps the older rule instead: the most probable sentiment alerts at that confidence level or higher.
/// </summary>
public sealed record AlertRule(IReadOnlySet<Sentiment> Sentiments, double MinimumProbability, AlertSensitivity Sensitivity, ConfidenceLevel? MinimumConfidence = null)
{
    public static readonly IReadOnlySet<Sentiment> AlarmingSentiments = new HashSet<Sentiment> { Sentiment.Negative, Sentiment.Mixed };

    public static AlertRule Default { get; } = For(AlertSensitivity.Balanced);

    /// <summary>The probability of an alerting sentiment at which each sensitivity raises an alert.</summary>
    public static double ThresholdOf(AlertSensitivity sensitivity) => sensitivity switch
    {
        AlertSensitivity.Recall => 0.30,
        AlertSensitivity.Precision => 0.75,
        _ => 0.50,
    };

    public static AlertRule For(AlertSensitivity sensitivity, IReadOnlySet<Sentiment>? sentiments = null) =>
        new(sentiments ?? AlarmingSentiments, ThresholdOf(sensitivity), sensitivity);

    public static bool TryParseSensitivity(string value, out AlertSensitivity sensitivity)
    {
        sensitivity = value.Trim().ToLowerInvariant() switch
        {
            "balanced" => AlertSensitivity.Balanced,
            "recall" => AlertSensitivity.Recall,
            "precision" => AlertSensitivity.Precision,
            _ => (AlertSensitivity)(-1),
        };
        return Enum.IsDefined(sensitivity);
    }

    public static string NameOf(AlertSensitivity sensitivity) => sensitivity.ToString().ToLowerInvariant();

    public bool Triggers(AnalysisResult result) => result.Method != ProcessingMethod.Validation && Alarms(result.Classification);

    /// <summary>Whether this classification (of a message long enough to judge) needs a person.</summary>
    public bool Alarms(Classification classification)
    {
        ArgumentNullException.ThrowIfNull(classification);
        return MinimumConfidence is { } level
            ? Sentiments.Contains(classification.Sentiment) && classification.ConfidenceLevel <= level
            : AlarmOf(classification.Scores) >= MinimumProbability;
    }

    /// <summary>The probability that the message's sentiment is one that alerts.</summary>
    public double AlarmOf(SentimentScores scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var sum = 0.0;
        foreach (var sentiment in Sentiments)
        {
            sum += scores[sentiment];
        }

        return sum;
    }

    /// <summary>One sentence saying why the result does or does not raise an alert.</summary>
    public string Explain(AnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var c = result.Classification;
        var sentiment = WireNames.Of(c.Sentiment);
        if (result.Method == ProcessingMethod.Validation)
        {
            return "no alert: the message is too short to judge";
        }

        if (MinimumConfidence is { } minimum)
        {
            var level = WireNames.Of(c.ConfidenceLevel);
            if (!Sentiments.Contains(c.Sentiment))
            {
                return $"no alert: {sentiment} messages do not raise alerts";
            }

            return Triggers(result)
                ? $"alert: {sentiment} with {level} confidence ({c.Confidence:0.00})"
                : $"no alert: {sentiment}, but only {level} confidence ({c.Confidence:0.00}); alerts need {WireNames.Of(minimum)} or higher";
        }

        var alarming = string.Join(" or ", Enum.GetValues<Sentiment>().Where(Sentiments.Contains).Select(WireNames.Of));
        var probability = AlarmOf(c.Scores).ToString("0.00", CultureInfo.InvariantCulture);
        var threshold = MinimumProbability.ToString("0.00", CultureInfo.InvariantCulture);
        return Triggers(result)
            ? $"alert: {alarming} with probability {probability} (alerts from {threshold}, sensitivity {NameOf(Sensitivity)})"
            : $"no alert: {alarming} with probability {probability} only; alerts need {threshold} (sensitivity {NameOf(Sensitivity)})";
    }
}
