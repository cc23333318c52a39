namespace Feedback.Analysis.Local.Training;

/// <summary>One training row: sparse features, its label, the classes its data set can express, and its weight.</summary>
/// <param name="Mask">Bit per class the row's data set labels at all; the softmax is taken over these only,
/// so a positive/negative-only set teaches nothing about neutral or mixed.</param>
/// <param name="Offsets">Fixed logits added before the softmax (the taxonomy prior); null for none.</param>
internal sealed record TrainingExample(int[] Indices, float[] Values, int Label, int Mask, float Weight, float[]? Offsets);

/// <param name="AverageFrom">From this epoch on, the weights at the end of each epoch are averaged into the result
/// (Polyak averaging: steadier than the last epoch's weights); Epochs or more returns the last weights.</param>
internal sealed record SoftmaxSettings(int Epochs, double LearningRate, double L2, int Seed, int AverageFrom = int.MaxValue);

/// <summary>
/// Multinomial logistic regression by AdaGrad stochastic gradient descent. Deterministic: one thread, a
/// seeded shuffle per epoch and a fixed order of floating-point operations give the same weights every run.
/// </summary>
internal static class SoftmaxTrainer
{
    /// <returns>Weights laid out [feature * classes + class].</returns>
    public static float[] Train(IReadOnlyList<TrainingExample> examples, int features, int classes, SoftmaxSettings settings)
    {
        var weights = new double[features * classes];
        var squares = new double[features * classes];
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var random = new Random(settings.Seed);
        Span<double> logits = stackalloc double[classes];
        Span<double> gradients = stackalloc double[classes];
        var average = settings.AverageFrom < settings.Epochs ? new double[weights.Length] : null;
        var averaged = 0;
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            Shuffle(order, random);
            foreach (var e in order)
            {
                var example = examples[e];
                Probabilities(weights, classes, example, logits);
                for (var c = 0; c < classes; c++)
                {
                    gradients[c] = (example.Mask & (1 << c)) == 0 ? 0 : example.Weight * (logits[c] - (c == example.Label ? 1 : 0));
                }

                for (var k = 0; k < example.Indices.Length; k++)
                {
                    var row = example.Indices[k] * classes;
                    var v = example.Values[k];
                    for (var c = 0; c < classes; c++)
                    {
                        if ((example.Mask & (1 << c)) == 0)
                        {
                            continue;
                        }

                        var i = row + c;
                        var g = (gradients[c] * v) + (settings.L2 * weights[i]);
                        squares[i] += g * g;
                        weights[i] -= settings.LearningRate * g / Math.Sqrt(squares[i] + 1e-8);
                    }
                }
            }

            if (average is not null && epoch >= settings.AverageFrom)
            {
                for (var i = 0; i < weights.Length; i++)
                {
                    average[i] += weights[i];
                }

                averaged++;
            }
        }

        return average is null ? Array.ConvertAll(weights, w => (float)w) : Array.ConvertAll(average, w => (float)(w / averaged));
    }

    /// <summary>Softmax over the example's allowed classes (others get 0), written into <paramref name="output"/>.</summary>
    private static void Probabilities(double[] weights, int classes, TrainingExample example, Span<double> output)
    {
        output.Clear();
        if (example.Offsets is { } offsets)
        {
            for (var c = 0; c < classes; c++)
            {
                output[c] = offsets[c];
            }
        }

        for (var k = 0; k < example.Indices.Length; k++)
        {
            var row = example.Indices[k] * classes;
            var v = example.Values[k];
            for (var c = 0; c < classes; c++)
            {
                output[c] += weights[row + c] * v;
            }
        }

        Softmax(output, example.Mask);
    }

    public static void Softmax(Span<double> logits, int mask)
    {
        var max = double.NegativeInfinity;
        for (var c = 0; c < logits.Length; c++)
        {
            if ((mask & (1 << c)) != 0)
            {
                max = Math.Max(max, logits[c]);
            }
        }

        var sum = 0.0;
        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] = (mask & (1 << c)) == 0 ? 0 : Math.Exp(logits[c] - max);
            sum += logits[c];
        }

        for (var c = 0; c < logits.Length; c++)
        {
            logits[c] /= sum;
        }
    }

    private static void Shuffle(int[] order, Random random)
    {
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
