namespace Feedback.Analysis;

/// <summary>Which answers need a person: by default negative or mixed with medium or high confidence.</summary>
public sealed record AlertRule(IReadOnlySet<Sentiment> Sentiments, ConfidenceLevel MinimumConfidence)
{
    public static AlertRule Default { get; } = new(new HashSet<Sentiment> { Sentiment.Negative, Sentiment.Mixed }, ConfidenceLevel.Medium);

    public bool Triggers(AnalysisResult result) =>
        result.Method != ProcessingMethod.Validation
        && Sentiments.Contains(result.Classification.Sentiment)
        && result.Classification.ConfidenceLevel <= MinimumConfidence;

    /// <summary>One sentence saying why the result does or does not raise an alert.</summary>
    public string Explain(AnalysisResult result)
    {
        var c = result.Classification;
        var sentiment = WireNames.Of(c.Sentiment);
        var level = WireNames.Of(c.ConfidenceLevel);
        if (result.Method == ProcessingMethod.Validation)
        {
            return "no alert: the message is too short to judge";
        }

        if (!Sentiments.Contains(c.Sentiment))
        {
            return $"no alert: {sentiment} messages do not raise alerts";
        }

        return Triggers(result)
            ? $"alert: {sentiment} with {level} confidence ({c.Confidence:0.00})"
            : $"no alert: {sentiment}, but only {level} confidence ({c.Confidence:0.00}); alerts need {WireNames.Of(MinimumConfidence)} or higher";
    }
}
