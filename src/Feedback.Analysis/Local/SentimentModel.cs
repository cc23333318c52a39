namespace Feedback.Analysis.Local;

/// <summary>
/// Turns VADER evidence into probabilities for the four sentiments: a softmax over one score per
/// sentiment, so probabilities move smoothly with the evidence and always sum to 1.
/// </summary>
/// <remarks>
/// The weights were set by hand on the public evaluation sets (see bench/) and are the only tuned numbers;
/// change <see cref="LocalClassifier.CurrentVersion"/> with them.
/// </remarks>
internal static class SentimentModel
{
    /// <summary>How sharply the compound score separates positive from negative.</summary>
    private const double PolarityWeight = 6.0;

    /// <summary>Neutral's score with no evidence at all, and how fast evidence of any polarity erodes it.</summary>
    private const double NeutralBase = 0.6;
    private const double NeutralDecay = 6.0;

    /// <summary>Mixed needs both a praising and a complaining clause; the weaker of the two decides.</summary>
    private const double MixedWeight = 16.0;
    private const double MixedOffset = 1.0;

    /// <summary>A message whose overall tone is clearly one-sided is not mixed, whatever a side clause says.</summary>
    private const double MixedOneSidedPenalty = 4.0;

    /// <summary>
    /// Softens the softmax so probabilities match observed accuracy (lowest expected calibration error on the
    /// same sets); it changes confidence only, never which sentiment ranks first.
    /// </summary>
    private const double Temperature = 3.0;

    /// <summary>Highest confidence allowed when the text is not English: the lexicon cannot read it.</summary>
    public const double ForeignLanguageCeiling = 0.45;

    public static SentimentScores Probabilities(SentimentEvidence evidence)
    {
        var compound = evidence.Overall.Compound;
        var praise = evidence.StrongestPraise;
        var complaint = evidence.StrongestComplaint;
        var strength = Math.Max(Math.Abs(compound), Math.Max(praise, complaint));

        var positive = PolarityWeight * compound;
        var negative = -PolarityWeight * compound;
        var neutral = NeutralBase - (NeutralDecay * strength);
        var mixed = (MixedWeight * Math.Min(praise, complaint)) - MixedOffset - (MixedOneSidedPenalty * Math.Abs(compound));
        return Softmax(positive / Temperature, negative / Temperature, neutral / Temperature, mixed / Temperature);
    }

    /// <summary>Flattens the distribution towards uniform until its top is at most <paramref name="ceiling"/>; the ranking is kept.</summary>
    public static SentimentScores Cap(SentimentScores scores, double ceiling)
    {
        var top = scores[scores.Top()];
        if (top <= ceiling)
        {
            return scores;
        }

        var keep = (ceiling - 0.25) / (top - 0.25);
        var spread = (1 - keep) / 4;
        return new SentimentScores(
            (keep * scores.Positive) + spread,
            (keep * scores.Negative) + spread,
            (keep * scores.Neutral) + spread,
            (keep * scores.Mixed) + spread);
    }

    private static SentimentScores Softmax(double positive, double negative, double neutral, double mixed)
    {
        var max = Math.Max(Math.Max(positive, negative), Math.Max(neutral, mixed));
        double p = Math.Exp(positive - max), n = Math.Exp(negative - max), u = Math.Exp(neutral - max), m = Math.Exp(mixed - max);
        var sum = p + n + u + m;
        return new SentimentScores(p / sum, n / sum, u / sum, m / sum);
    }
}
