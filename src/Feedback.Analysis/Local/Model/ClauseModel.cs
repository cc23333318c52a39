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
    public void ScoreClauses(FeatureVector vector, Span<float> scores)
    {
        Span<int> counts = stackalloc int[scores.Length];
        scores.Clear();
        var indices = vector.WordIndices;
        var clauses = vector.ClauseOf;
        for (var k = 0; k < indices.Length; k++)
        {
            var c = clauses[k];
            if (c < scores.Length)
            {
                scores[c] += Weights[indices[k]];
                counts[c]++;
            }
        }

        for (var c = 0; c < scores.Length; c++)
        {
            scores[c] = counts[c] == 0 ? 0 : Bias + (scores[c] / MathF.Sqrt(counts[c]));
        }
    }
}
