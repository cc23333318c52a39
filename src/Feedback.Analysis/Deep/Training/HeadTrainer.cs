using System.Runtime.Intrinsics;

namespace Feedback.Analysis.Deep.Training;

/// <summary>One row for a head: its input vector, its class (-1 when its set does not label this task) and its weight.</summary>
internal sealed record HeadRow(double[] Input, int Label, double Weight);

/// <param name="L2">Penalty on the squared weights of the standardised inputs (not the bias), per unit of row weight.</param>
/// <param name="LearningRate">A share of the largest stable step, 1 / (the largest eigenvalue of the inputs' covariance).</param>
internal sealed record HeadSettings(int Iterations = 300, double LearningRate = 1, double Momentum = 0.9, double L2 = 1e-2);

/// <summary>
/// Multinomial logistic regression by full-batch gradient descent with Nesterov momentum, on inputs standardised to
/// mean 0 and variance 1 (the returned weights apply to the raw inputs). The step is set from the inputs' largest
/// eigenvalue, so no learning rate needs tuning and none can diverge. Deterministic: the rows are summed in fixed
/// chunks whose partial gradients are added in chunk order, the same bit for bit on any number of cores.
/// </summary>
internal static class HeadTrainer
{
    private const int Chunk = 256;

    /// <returns>Weights laid out [class * input length + input]; the last input of every row is the constant 1 (bias).</returns>
    public static float[] Train(IReadOnlyList<HeadRow> rows, int classes, HeadSettings settings)
    {
        var n = rows[0].Input.Length;
        var (mean, scale) = Standardisation(rows.Where(r => r.Label >= 0).ToArray());
        var labelled = rows.Where(r => r.Label >= 0)
            .Select(r => r with { Input = [.. r.Input.Select((v, i) => (v - mean[i]) / scale[i])] })
            .ToArray();
        var step = settings.LearningRate / LargestEigenvalue(labelled);
        var weights = new double[classes * n];
        var velocity = new double[classes * n];
        var totalWeight = labelled.Sum(r => r.Weight);
        var chunks = (labelled.Length + Chunk - 1) / Chunk;
        var partials = new double[chunks][];
        for (var it = 0; it < settings.Iterations; it++)
        {
            // Nesterov: the gradient is taken where the momentum is about to carry the weights.
            var ahead = new double[weights.Length];
            for (var i = 0; i < weights.Length; i++)
            {
                ahead[i] = weights[i] + (settings.Momentum * velocity[i]);
            }

            Parallel.For(0, chunks, c =>
            {
                var gradient = partials[c] ??= new double[weights.Length];
                Array.Clear(gradient);
                Span<double> p = stackalloc double[classes];
                var end = Math.Min(labelled.Length, (c + 1) * Chunk);
                for (var r = c * Chunk; r < end; r++)
                {
                    var row = labelled[r];
                    Logits(ahead, classes, row.Input, p);
                    Probabilities.Softmax(p, 1);
                    for (var k = 0; k < classes; k++)
                    {
                        AddScaled(gradient.AsSpan(k * n, n), row.Weight * (p[k] - (k == row.Label ? 1 : 0)), row.Input);
                    }
                }
            });

            for (var i = 0; i < weights.Length; i++)
            {
                var sum = 0.0;
                for (var c = 0; c < chunks; c++)
                {
                    sum += partials[c][i];
                }

                var isBias = i % n == n - 1;
                var g = (sum / totalWeight) + (isBias ? 0 : settings.L2 * ahead[i]);
                velocity[i] = (settings.Momentum * velocity[i]) - (step * g);
                weights[i] += velocity[i];
            }
        }

        // Back to raw inputs: w·(x - m)/s = (w/s)·x - Σ w·m/s, the last term folded into the bias.
        var raw = new float[weights.Length];
        for (var k = 0; k < classes; k++)
        {
            var shift = 0.0;
            for (var i = 0; i < n - 1; i++)
            {
                raw[(k * n) + i] = (float)(weights[(k * n) + i] / scale[i]);
                shift += weights[(k * n) + i] * mean[i] / scale[i];
            }

            raw[(k * n) + n - 1] = (float)(weights[(k * n) + n - 1] - shift);
        }

        return raw;
    }

    /// <summary>Each input's weighted mean and standard deviation; the bias input (last) stays as it is.</summary>
    internal static (double[] Mean, double[] Scale) Standardisation(HeadRow[] rows)
    {
        var n = rows[0].Input.Length;
        var mean = new double[n];
        var scale = new double[n];
        var total = rows.Sum(r => r.Weight);
        foreach (var r in rows)
        {
            for (var i = 0; i < n; i++)
            {
                mean[i] += r.Weight * r.Input[i] / total;
            }
        }

        foreach (var r in rows)
        {
            for (var i = 0; i < n; i++)
            {
                scale[i] += r.Weight * (r.Input[i] - mean[i]) * (r.Input[i] - mean[i]) / total;
            }
        }

        for (var i = 0; i < n; i++)
        {
            scale[i] = Math.Max(Math.Sqrt(scale[i]), 1e-6);
        }

        (mean[n - 1], scale[n - 1]) = (0, 1);
        return (mean, scale);
    }

    /// <summary>The largest eigenvalue of the rows' weighted second-moment matrix, by 30 power iterations.</summary>
    private static double LargestEigenvalue(HeadRow[] rows)
    {
        var n = rows[0].Input.Length;
        var total = rows.Sum(r => r.Weight);
        var v = Enumerable.Repeat(1 / Math.Sqrt(n), n).ToArray();
        var eigenvalue = 1.0;
        for (var it = 0; it < 30; it++)
        {
            var next = new double[n];
            foreach (var r in rows)
            {
                var dot = 0.0;
                for (var i = 0; i < n; i++)
                {
                    dot += r.Input[i] * v[i];
                }

                for (var i = 0; i < n; i++)
                {
                    next[i] += r.Weight * dot * r.Input[i] / total;
                }
            }

            eigenvalue = Math.Sqrt(next.Sum(x => x * x));
            v = [.. next.Select(x => x / eigenvalue)];
        }

        return eigenvalue;
    }

    /// <summary>
    /// The temperature that minimises the log loss of <paramref name="logits"/> (rows of held-out logits with their
    /// labels): a grid from 0.5 to 4 in steps of 0.05, which is fine enough for the ECE and needs no tuning.
    /// </summary>
    public static float FitTemperature(IReadOnlyList<(double[] Logits, int Label)> logits)
    {
        var best = 1f;
        var bestLoss = double.PositiveInfinity;
        for (var step = 0; step <= 70; step++)
        {
            var t = 0.5f + (step * 0.05f);
            var loss = 0.0;
            foreach (var (row, label) in logits)
            {
                var p = (double[])row.Clone();
                Probabilities.Softmax(p, t);
                loss -= Math.Log(Math.Max(p[label], 1e-12));
            }

            if (loss < bestLoss)
            {
                (best, bestLoss) = (t, loss);
            }
        }

        return best;
    }

    private static void Logits(double[] weights, int classes, double[] input, Span<double> output)
    {
        var n = input.Length;
        for (var k = 0; k < classes; k++)
        {
            output[k] = Dot(weights.AsSpan(k * n, n), input);
        }
    }

    // Four lanes whatever the processor offers (not Vector<T>), so the sums, and the trained bits, are the same on
    // every machine.
    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var lanes = Vector256<double>.Zero;
        var i = 0;
        for (; i <= a.Length - 4; i += 4)
        {
            lanes += Vector256.Create(a.Slice(i, 4)) * Vector256.Create(b.Slice(i, 4));
        }

        // Spelt out: Vector256.Sum's order may depend on the hardware path.
        var sum = (lanes.GetElement(0) + lanes.GetElement(1)) + (lanes.GetElement(2) + lanes.GetElement(3));
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    internal static void AddScaled(Span<double> target, double scale, ReadOnlySpan<double> x)
    {
        var s = Vector256.Create(scale);
        var i = 0;
        for (; i <= target.Length - 4; i += 4)
        {
            (Vector256.Create((ReadOnlySpan<double>)target.Slice(i, 4)) + (s * Vector256.Create(x.Slice(i, 4)))).CopyTo(target.Slice(i, 4));
        }

        for (; i < target.Length; i++)
        {
            target[i] += scale * x[i];
        }
    }
}
