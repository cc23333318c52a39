namespace Feedback.Analysis;

public enum Sentiment
{
    Positive,
    Negative,
    Neutral,
    Mixed,
}

public enum Topic
{
    Bug,
    FeatureRequest,
    Billing,
    Performance,
    Ux,
    General,
}

public enum ConfidenceLevel
{
    High,
    Medium,
    Low,
}

public enum ProcessingMethod
{
    Ai,
    MlFallback,
    Validation,
}

/// <summary>The wire names of the labels, fixed by the contract.</summary>
public static class WireNames
{
    public static string Of(Sentiment value) => value switch
    {
        Sentiment.Positive => "positive",
        Sentiment.Negative => "negative",
        Sentiment.Neutral => "neutral",
        Sentiment.Mixed => "mixed",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string Of(Topic value) => value switch
    {
        Topic.Bug => "bug",
        Topic.FeatureRequest => "feature_request",
        Topic.Billing => "billing",
        Topic.Performance => "performance",
        Topic.Ux => "ux",
        Topic.General => "general",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string Of(ConfidenceLevel value) => value switch
    {
        ConfidenceLevel.High => "high",
        ConfidenceLevel.Medium => "medium",
        ConfidenceLevel.Low => "low",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static string Of(ProcessingMethod value) => value switch
    {
        ProcessingMethod.Ai => "ai",
        ProcessingMethod.MlFallback => "ml_fallback",
        ProcessingMethod.Validation => "validation",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    public static bool TryParseSentiment(string? text, out Sentiment value)
    {
        foreach (var candidate in Enum.GetValues<Sentiment>())
        {
            if (string.Equals(Of(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }

    public static bool TryParseTopic(string? text, out Topic value)
    {
        foreach (var candidate in Enum.GetValues<Topic>())
        {
            if (string.Equals(Of(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
