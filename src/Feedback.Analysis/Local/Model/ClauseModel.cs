namespace Feedback.Analysis.Local.Model;

/// <summary>
/// A binary (positive minus negative) linear model over word features, trained on whole sentences and
/// applied to each clause on its own: "I love the design" and "the app crashes" get their own scores,
/// which is what lets the sentiment model see a mixed message.
/// </summary>
internal sealed class ClauseModel(float[] weights, float bias)
{
    public float[] Weights { get; } = weights;

    public float Bias { get; } = bias;

    /// <summary>One score (log-odds of positive) per clause, each clause scaled by 1/sqrt(its word features).</summary>
    /// <remarks>
    /// The word features come in clause order, so each clause's weights are summed in one run, in feature order,
    /// with no per-clause counters: a stack buffer would keep this method out of the profile-guided tier.
    /// </remarks>
    public void ScoreClauses(FeatureVector vector, Span<float> scores)
    {
        scores.Clear();
        var byFeature = Weights;
        var indices = vector.WordIndices;
        var clauses = vector.ClauseOf;
        var k = 0;
        while (k < indices.Length && clauses[k] < scores.Length)
        {
            var c = clauses[k];
            var sum = 0f;
            var count = 0;
            for (; k < indices.Length && clauses[k] == c; k++)
            {
                sum += byFeature[indices[k]];
                count++;
            }

            scores[c] = Bias + (sum / MathF.Sqrt(count));
        }
    }
}
