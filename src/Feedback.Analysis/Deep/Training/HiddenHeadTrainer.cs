namespace Feedback.Analysis.Deep.Training;

/// <param name="Units">Hidden units (ReLU).</param>
/// <param name="Epochs">Passes over the rows: the early stop, chosen by cross-validation on the training rows.</param>
/// <param name="L2">Penalty on the squared weights of the standardised inputs and the hidden units (not the biases), per unit of row weight.</param>
/// <param name="Seed">Seeds the initial weights and the order of the rows in each pass: the same seed, the same bits.</param>
/// <param name="Linear">When set, the linear part is the logistic head these settings train, fixed: the hidden units learn only what it gets wrong.</param>
internal sealed record HiddenSettings(int Units = 64, int Epochs = 20, double L2 = 1e-3, double LearningRate = 1e-3, int Batch = 32, ulong Seed = 18, HeadSettings? Linear = null);

/// <summary>
/// A head with one hidden layer beside the linear one: logits = W·x + V·relu(U·x), on inputs standardised to mean 0 and
/// variance 1 (the returned weights apply to the raw inputs). The linear part (a skip connection) keeps what the logistic
/// head could already do; the hidden units can learn what it cannot, such as praise that turns on a "but". Trained by Adam
/// on mini-batches in one thread, with the initial weights and every pass's row order drawn from a fixed-seed generator
/// (SplitMix64, not System.Random, whose sequence .NET does not promise): bit for bit the same on every run. The shipped
/// heads use none: out of fold on the training rows no setting beat the logistic heads (bench/RESULTS.md, "Notes:
/// session 14").
/// </summary>
internal static class HiddenHeadTrainer
{
    /// <returns>Weights as <see cref="DeepHeads.HiddenLogits"/> reads them: U [units * inputs], then [class * (inputs + units)] for W and V.</returns>
    public static float[] Train(IReadOnlyList<HeadRow> rows, int classes, HiddenSettings settings)
    {
        var n = rows[0].Input.Length;
        var h = settings.Units;
        var (mean, scale) = HeadTrainer.Standardisation([.. rows.Where(r => r.Label >= 0)]);
        var labelled = rows.Where(r => r.Label >= 0)
            .Select(r => r with { Input = [.. r.Input.Select((v, i) => (v - mean[i]) / scale[i])] })
            .ToArray();
        var meanWeight = labelled.Average(r => r.Weight);
        var width = n + h;
        var random = new SplitMix64(settings.Seed);

        // U by He's rule for ReLU units; V small, W zero: training starts as a near-constant answer.
        var parameters = new double[(h * n) + (classes * width)];
        var bound = Math.Sqrt(6.0 / n);
        for (var i = 0; i < h * n; i++)
        {
            parameters[i] = i % n == n - 1 ? 0 : ((2 * random.NextDouble()) - 1) * bound;
        }

        var outBound = Math.Sqrt(6.0 / (h + classes)) * 0.1;
        for (var k = 0; k < classes; k++)
        {
            for (var j = 0; j < h; j++)
            {
                parameters[(h * n) + (k * width) + n + j] = ((2 * random.NextDouble()) - 1) * outBound;
            }
        }

        var frozen = new bool[parameters.Length];
        if (settings.Linear is { } linearSettings)
        {
            // The logistic head's raw weights back on the standardised inputs: w_std = w·s, bias_std = bias + Σ w·m.
            var linear = HeadTrainer.Train(rows, classes, linearSettings);
            for (var k = 0; k < classes; k++)
            {
                var bias = (double)linear[(k * n) + n - 1];
                for (var i = 0; i < n - 1; i++)
                {
                    parameters[(h * n) + (k * width) + i] = linear[(k * n) + i] * scale[i];
                    bias += linear[(k * n) + i] * mean[i];
                    frozen[(h * n) + (k * width) + i] = true;
                }

                parameters[(h * n) + (k * width) + n - 1] = bias;
                frozen[(h * n) + (k * width) + n - 1] = true;
            }
        }

        var penalised = new bool[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            // Every weight but those of the constant input (the biases).
            var column = i < h * n ? i % n : (i - (h * n)) % width;
            penalised[i] = column != n - 1;
        }

        var gradient = new double[parameters.Length];
        var m = new double[parameters.Length];
        var v = new double[parameters.Length];
        const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
        var order = Enumerable.Range(0, labelled.Length).ToArray();
        var hidden = new double[h];
        var z = new double[width];
        var p = new double[classes];
        var dh = new double[h];
        var t = 0;
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = (int)(random.Next() % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }

            for (var start = 0; start < order.Length; start += settings.Batch)
            {
                var end = Math.Min(order.Length, start + settings.Batch);
                Array.Clear(gradient);
                for (var b = start; b < end; b++)
                {
                    var row = labelled[order[b]];
                    var x = row.Input;
                    Forward(parameters, n, h, classes, x, hidden, z, p);
                    Probabilities.Softmax(p, 1);
                    var scaleOf = row.Weight / (meanWeight * (end - start));
                    Array.Clear(dh);
                    for (var k = 0; k < classes; k++)
                    {
                        var d = scaleOf * (p[k] - (k == row.Label ? 1 : 0));
                        var offset = (h * n) + (k * width);
                        var outRow = parameters.AsSpan(offset, width);
                        HeadTrainer.AddScaled(gradient.AsSpan(offset, width), d, z);
                        for (var j = 0; j < h; j++)
                        {
                            dh[j] += d * outRow[n + j];
                        }
                    }

                    for (var j = 0; j < h; j++)
                    {
                        if (hidden[j] > 0)
                        {
                            HeadTrainer.AddScaled(gradient.AsSpan(j * n, n), dh[j], x);
                        }
                    }
                }

                t++;
                var correction1 = 1 - Math.Pow(Beta1, t);
                var correction2 = 1 - Math.Pow(Beta2, t);
                for (var i = 0; i < parameters.Length; i++)
                {
                    if (frozen[i])
                    {
                        continue;
                    }

                    var g = gradient[i] + (penalised[i] ? settings.L2 * parameters[i] : 0);
                    m[i] = (Beta1 * m[i]) + ((1 - Beta1) * g);
                    v[i] = (Beta2 * v[i]) + ((1 - Beta2) * g * g);
                    parameters[i] -= settings.LearningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + Epsilon);
                }
            }
        }

        // Back to raw inputs, as the logistic head does: u·(x - m)/s = (u/s)·x - Σ u·m/s, the last term folded into the
        // bias, for U's rows and for W's (V reads the hidden units, which stay as they are).
        var raw = new float[parameters.Length];
        void Unstandardise(int offset)
        {
            var shift = 0.0;
            for (var i = 0; i < n - 1; i++)
            {
                raw[offset + i] = (float)(parameters[offset + i] / scale[i]);
                shift += parameters[offset + i] * mean[i] / scale[i];
            }

            raw[offset + n - 1] = (float)(parameters[offset + n - 1] - shift);
        }

        for (var j = 0; j < h; j++)
        {
            Unstandardise(j * n);
        }

        for (var k = 0; k < classes; k++)
        {
            var offset = (h * n) + (k * width);
            Unstandardise(offset);
            for (var j = 0; j < h; j++)
            {
                raw[offset + n + j] = (float)parameters[offset + n + j];
            }
        }

        return raw;
    }

    /// <summary>The training's own forward pass, in double on the standardised inputs.</summary>
    private static void Forward(double[] parameters, int n, int h, int classes, double[] x, double[] hidden, double[] z, double[] logits)
    {
        for (var j = 0; j < h; j++)
        {
            hidden[j] = Math.Max(0, HeadTrainer.Dot(parameters.AsSpan(j * n, n), x));
        }

        x.CopyTo(z, 0);
        hidden.CopyTo(z, n);
        var width = n + h;
        for (var k = 0; k < classes; k++)
        {
            logits[k] = HeadTrainer.Dot(parameters.AsSpan((h * n) + (k * width), width), z);
        }
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose sequence is fixed by its definition.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong state = seed;

        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, 1) from the top 53 bits.</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
