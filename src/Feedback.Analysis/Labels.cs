namespace Feedback.Analysis;

public enum Sentiment
{
    Positive,
    Negative,
    Neutral,
    Mixed,
}

/// <summary>
/// A topic by its wire name. The contract's six are built in (the lexical model knows only these); a taxonomy file can
/// configure others for the deep model (<see cref="Taxonomy"/>), so a topic is a name, not a fixed list.
/// </summary>
public readonly record struct Topic
{
    public const int MaxNameLength = 32;

    private readonly string? name;

    /// <param name="name">Lower-case letters, digits and underscores, starting with a letter, at most 32 characters.</param>
    public Topic(string name)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a topic name: lower-case letters, digits and '_', starting with a letter, at most {MaxNameLength} characters", nameof(name));
        }

        this.name = name;
    }

    public static Topic Bug { get; } = new("bug");

    public static Topic FeatureRequest { get; } = new("feature_request");

    public static Topic Billing { get; } = new("billing");

    public static Topic Performance { get; } = new("performance");

    public static Topic Ux { get; } = new("ux");

    public static Topic General { get; } = new("general");

    /// <summary>The contract's six, in the order the lexical model's weights use.</summary>
    public static IReadOnlyList<Topic> BuiltIn { get; } = [Bug, FeatureRequest, Billing, Performance, Ux, General];

    /// <summary>The wire name; <c>default(Topic)</c> reads as general.</summary>
    public string Name => name ?? "general";

    /// <summary>Where the lexical model keeps this topic, or -1 for a topic only a taxonomy file knows.</summary>
    public int BuiltInIndex => Name switch
    {
        "bug" => 0,
        "feature_request" => 1,
        "billing" => 2,
        "performance" => 3,
        "ux" => 4,
        "general" => 5,
        _ => -1,
    };

    public static bool IsValidName(string? text) =>
        text is { Length: > 0 and <= MaxNameLength } && text[0] is >= 'a' and <= 'z' && text.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    /// <summary>Any well-formed topic name: stored answers and labels may name topics of an earlier taxonomy.</summary>
    public static bool TryParse(string? text, out Topic value)
    {
        if (!IsValidName(text))
        {
            value = default;
            return false;
        }

        value = new Topic(text!);
        return true;
    }

    /// <summary>One of the contract's six only.</summary>
    public static bool TryParseBuiltIn(string? text, out Topic value) =>
        TryParse(text, out value) && value.BuiltInIndex >= 0;

    public bool Equals(Topic other) => string.Equals(Name, other.Name, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    public override string ToString() => Name;
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

    public static string Of(Topic value) => value.Name;

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
}
