namespace Feedback.Analysis;

internal static class Probabilities
{
    /// <summary>The index of the largest value; a tie goes to the first.</summary>
    public static int Argmax(ReadOnlySpan<double> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    /// <summary>Turns logits into probabilities in place, sharpened (temperature below 1) or flattened (above 1).</summary>
    public static void Softmax(Span<double> logits, double temperature)
    {
        var max = double.NegativeInfinity;
        foreach (var l in logits)
        {
            max = Math.Max(max, l);
        }

        var sum = 0.0;
        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] = Math.Exp((logits[c] - max) / temperature);
            sum += logits[c];
        }

        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] /= sum;
        }
    }
}
