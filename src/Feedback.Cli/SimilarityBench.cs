using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Similarity;
using Feedback.Storage;

namespace Feedback.Cli;

/// <summary>
/// <c>bench-similarity</c> (bench/similarity.sh), side by side in one run: (1) how well the stored encodings keep the
/// cosine ranking of the encoder's floats, int8 with a scale (what feedback.embedding holds) against float16, on real
/// messages; (2) one similarity query over 100,000 vectors with <see cref="VectorIndex"/> against a plain scalar loop
/// over the same floats and against TensorPrimitives.Dot over them, and the same vectors as int8 bytes scanned with SIMD
/// against a scalar loop; (3) the index's memory per 100,000 vectors.
/// </summary>
internal static class SimilarityBench
{
    private const int Dimensions = SentenceEncoder.Dimensions;
    private const int Top = 10;

    public static Command Definition()
    {
        var data = new Option<string?>("--data") { Description = "The in-domain set whose messages are encoded for the recall figures.", HelpName = "file" };
        var sample = new Option<int>("--sample") { Description = "Messages encoded; each is a query over the others.", DefaultValueFactory = _ => 1500 };
        var vectors = new Option<int>("--vectors") { Description = "Vectors in the index for the search timing.", DefaultValueFactory = _ => 100_000 };
        var command = new Command("bench-similarity", "Stored encodings' recall, search against a scalar loop, index memory (bench/similarity.sh).")
        {
            data, sample, vectors,
        };
        command.Hidden = true;
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(sample) is not (>= 2 and <= 20_000) || parsed.GetValue(vectors) is not (>= Top and <= 2_000_000))
            {
                Console.Error.WriteLine("--sample is 2 to 20,000; --vectors is 10 to 2,000,000.");
                return CommandLine.Usage;
            }

            Encodings(parsed.GetValue(data) ?? ProductFeedbackSet.DefaultPath, parsed.GetValue(sample));
            Search(parsed.GetValue(vectors));
            return CommandLine.Ok;
        });
        return command.WithExamples("dotnet .build/Release/cli/Feedback.Cli.dll bench-similarity --sample 1500 --vectors 100000   (as bench/similarity.sh runs it)");
    }

    /// <summary>Recall@10 of each encoding's ranking against the floats' ranking, every message a query over the rest.</summary>
    private static void Encodings(string data, int sample)
    {
        var texts = ProductFeedbackSet.Load(data).Select(r => TextRules.Normalise(r.Text)).Distinct(StringComparer.Ordinal).Take(sample).ToArray();
        using var encoder = SentenceEncoder.Load();
        encoder.Encode(texts[..Math.Min(16, texts.Length)]);
        var encodeCpu = Environment.CpuUsage.TotalTime;
        var exact = encoder.Encode(texts);
        var encodeMs = (Environment.CpuUsage.TotalTime - encodeCpu).TotalMilliseconds / texts.Length;
        WritePath(exact, encodeMs);
        var int8 = exact.Select(v => StoredEmbedding.AsStored(v)).ToArray();
        var half = exact.Select(v => v.Select(x => (float)(Half)x).ToArray()).ToArray();
        var (int8Recall, int8Error) = Compare(exact, int8);
        var (halfRecall, halfError) = Compare(exact, half);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ENCODING messages={texts.Length} int8_bytes={StoredEmbedding.Encode(exact[0])!.Length} int8_recall_at_{Top}={int8Recall:0.0000} int8_mean_abs_cosine_error={int8Error:0.000000} " +
            $"float16_bytes={Dimensions * 2} float16_recall_at_{Top}={halfRecall:0.0000} float16_mean_abs_cosine_error={halfError:0.000000}"));
    }

    /// <summary>
    /// What keeping the index current adds to a POST on the deep classifier, side by side in this run: the CPU time of
    /// one message's encoding (which every such POST pays) against one index update as the service's writer does it after
    /// its commit (SimilarMessages.Add: the stored bytes decoded, then VectorIndex.Set), over 100,000 updates.
    /// </summary>
    private static void WritePath(float[][] vectors, double encodeMs)
    {
        var stored = vectors.Select(v => StoredEmbedding.Encode(v)!).ToArray();
        var index = new VectorIndex(Dimensions);
        var buffer = new float[Dimensions];
        const int Updates = 100_000;
        for (var warm = 0; warm < 2; warm++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Updates; i++)
            {
                StoredEmbedding.TryDecode(stored[i % stored.Length], buffer);
                index.Set((warm * Updates) + i + 1, buffer);
            }

            if (warm == 1)
            {
                var addUs = Stopwatch.GetElapsedTime(started).TotalMicroseconds / Updates;
                var addCpuUs = (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / Updates;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"WRITE_PATH encode_cpu_ms_per_message={encodeMs:0.00} index_update_us={addUs:0.00} index_update_cpu_us={addCpuUs:0.00} " +
                    $"index_share_of_encode={addCpuUs / (encodeMs * 1000):P2} index_size={index.Count}"));
            }
        }
    }

    private static (double Recall, double MeanError) Compare(float[][] exact, float[][] stored)
    {
        double found = 0, error = 0;
        long pairs = 0;
        for (var q = 0; q < exact.Length; q++)
        {
            var truth = Ranked(exact, exact[q], q);
            var approximate = Ranked(stored, stored[q], q);
            found += truth.Intersect(approximate).Count();
            for (var i = 0; i < exact.Length; i++)
            {
                if (i != q)
                {
                    error += Math.Abs(Dot(exact[q], exact[i]) - Dot(stored[q], stored[i]));
                    pairs++;
                }
            }
        }

        return (found / (exact.Length * (double)Top), error / pairs);
    }

    private static int[] Ranked(float[][] vectors, float[] query, int self) =>
        [.. Enumerable.Range(0, vectors.Length).Where(i => i != self).OrderByDescending(i => Dot(query, vectors[i])).ThenByDescending(i => i).Take(Top)];

    /// <summary>The index's search against a plain loop over the same floats, the median of many queries each; and its memory.</summary>
    private static void Search(int count)
    {
        var random = new Random(19);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var index = new VectorIndex(Dimensions);
        var flat = new float[count * Dimensions];
        var vector = new float[Dimensions];
        for (var id = 1; id <= count; id++)
        {
            RandomUnit(random, vector);
            index.Set(id, vector);
            vector.CopyTo(flat, (id - 1) * Dimensions);
        }

        var indexBytes = GC.GetTotalMemory(forceFullCollection: true) - before - ((long)flat.Length * sizeof(float));
        var queries = Enumerable.Range(0, 40).Select(_ =>
        {
            var q = new float[Dimensions];
            RandomUnit(random, q);
            return q;
        }).ToArray();

        // Warm both paths (JIT tiering) before timing.
        foreach (var q in queries.Take(5))
        {
            index.Search(q, Top);
            ScalarSearch(flat, count, q);
        }

        var vectorised = Median(queries.Select(q => Time(() => index.Search(q, Top))));
        var scalar = Median(queries.Select(q => Time(() => ScalarSearch(flat, count, q))));
        var same = queries.Average(q => index.Search(q, Top).Select(f => f.Id).Intersect(ScalarSearch(flat, count, q)).Count()) / Top;
        var floatIndexed = Median(queries.Select(q => Time(() => FloatSearch(flat, count, q))));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SEARCH vectors={count} dims={Dimensions} top={Top} index_ms={vectorised:0.000} scalar_ms={scalar:0.000} speedup={scalar / vectorised:0.0} recall_at_{Top}_vs_float={same:0.000} " +
            $"float_tensorprimitives_ms={floatIndexed:0.000} float_tensorprimitives_speedup={scalar / floatIndexed:0.0} " +
            $"index_bytes={indexBytes} bytes_per_vector={indexBytes / (double)count:0} allocated_arrays_bytes={index.AllocatedBytes} simd={System.Numerics.Vector<float>.Count * 32}bit"));

        // The same vectors as stored (int8 with a scale): a quarter of the bytes to stream through per query.
        var bytes = new sbyte[count * Dimensions];
        var factors = new float[count];
        for (var row = 0; row < count; row++)
        {
            factors[row] = Quantise(flat.AsSpan(row * Dimensions, Dimensions), bytes.AsSpan(row * Dimensions, Dimensions));
        }

        var quantised = queries.Select(q =>
        {
            var b = new sbyte[Dimensions];
            Quantise(q, b);
            return b;
        }).ToArray();
        foreach (var q in quantised.Take(5))
        {
            Int8Search(bytes, factors, q, simd: true);
            Int8Search(bytes, factors, q, simd: false);
        }

        var int8Simd = Median(quantised.Select(q => Time(() => Int8Search(bytes, factors, q, simd: true))));
        var int8Scalar = Median(quantised.Select(q => Time(() => Int8Search(bytes, factors, q, simd: false))));
        var overlap = queries.Select((q, i) => index.Search(q, Top).Select(f => f.Id).Intersect(Int8Search(bytes, factors, quantised[i], simd: true)).Count()).Average() / Top;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SEARCH_INT8 vectors={count} int8_simd_ms={int8Simd:0.000} int8_scalar_ms={int8Scalar:0.000} speedup_vs_int8_scalar={int8Scalar / int8Simd:0.0} " +
            $"speedup_vs_float_scalar={scalar / int8Simd:0.0} speedup_vs_float_tensorprimitives={vectorised / int8Simd:0.0} recall_at_{Top}_vs_float={overlap:0.000} " +
            $"bytes_per_vector={Dimensions + sizeof(float) + sizeof(long)}"));
    }

    /// <summary>int8 components of a unit vector (largest magnitude at 127) and the factor that turns an int dot back into a cosine share.</summary>
    private static float Quantise(ReadOnlySpan<float> vector, Span<sbyte> destination)
    {
        var largest = 0f;
        foreach (var v in vector)
        {
            largest = Math.Max(largest, Math.Abs(v));
        }

        var scale = largest > 0 ? largest / sbyte.MaxValue : 1f;
        double norm = 0;
        for (var i = 0; i < vector.Length; i++)
        {
            destination[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] / scale), -sbyte.MaxValue, sbyte.MaxValue);
            norm += destination[i] * destination[i];
        }

        return (float)(1 / Math.Sqrt(norm));
    }

    /// <summary>Exact int dot products of int8 vectors: 32 components at a time (widened to 16 bits, multiply-add to 32) or one at a time.</summary>
    private static long[] Int8Search(sbyte[] bytes, float[] factors, sbyte[] query, bool simd)
    {
        var best = new PriorityQueue<long, (float, long)>(Top + 1);
        for (var row = 0; row < factors.Length; row++)
        {
            var v = bytes.AsSpan(row * Dimensions, Dimensions);
            var dot = simd ? Int8Dot(query, v) : Int8DotScalar(query, v);
            var sum = dot * factors[row];
            var id = row + 1L;
            if (best.Count < Top)
            {
                best.Enqueue(id, (sum, id));
            }
            else if (best.TryPeek(out _, out var worst) && (sum > worst.Item1 || (sum == worst.Item1 && id > worst.Item2)))
            {
                best.EnqueueDequeue(id, (sum, id));
            }
        }

        var result = new long[best.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            result[i] = best.Dequeue();
        }

        return result;
    }

    private static int Int8Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var sum = Vector256<int>.Zero;
        var i = 0;
        for (; i + Vector256<sbyte>.Count <= a.Length; i += Vector256<sbyte>.Count)
        {
            var (aLow, aHigh) = Vector256.Widen(Vector256.Create(a.Slice(i, Vector256<sbyte>.Count)));
            var (bLow, bHigh) = Vector256.Widen(Vector256.Create(b.Slice(i, Vector256<sbyte>.Count)));
            if (Avx2.IsSupported)
            {
                sum += Avx2.MultiplyAddAdjacent(aLow, bLow) + Avx2.MultiplyAddAdjacent(aHigh, bHigh);
            }
            else
            {
                var (p0, p1) = Vector256.Widen(aLow * bLow);
                var (p2, p3) = Vector256.Widen(aHigh * bHigh);
                sum += p0 + p1 + p2 + p3;
            }
        }

        var total = Vector256.Sum(sum);
        for (; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    private static int Int8DotScalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var total = 0;
        for (var i = 0; i < a.Length; i++)
        {
            total += a[i] * b[i];
        }

        return total;
    }

    /// <summary>The search as the index did it on floats before it held bytes: TensorPrimitives.Dot over each row.</summary>
    private static long[] FloatSearch(float[] flat, int count, float[] query)
    {
        var best = new PriorityQueue<long, (float, long)>(Top + 1);
        for (var row = 0; row < count; row++)
        {
            var sum = System.Numerics.Tensors.TensorPrimitives.Dot(query, flat.AsSpan(row * Dimensions, Dimensions));
            var id = row + 1L;
            if (best.Count < Top)
            {
                best.Enqueue(id, (sum, id));
            }
            else if (best.TryPeek(out _, out var worst) && (sum > worst.Item1 || (sum == worst.Item1 && id > worst.Item2)))
            {
                best.EnqueueDequeue(id, (sum, id));
            }
        }

        var result = new long[best.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            result[i] = best.Dequeue();
        }

        return result;
    }

    /// <summary>The same search as <see cref="VectorIndex.Search"/> written as a plain loop: one multiply-add at a time.</summary>
    private static long[] ScalarSearch(float[] flat, int count, float[] query)
    {
        var best = new PriorityQueue<long, (float, long)>(Top + 1);
        for (var row = 0; row < count; row++)
        {
            var sum = 0f;
            var offset = row * Dimensions;
            for (var d = 0; d < Dimensions; d++)
            {
                sum += query[d] * flat[offset + d];
            }

            var id = row + 1L;
            if (best.Count < Top)
            {
                best.Enqueue(id, (sum, id));
            }
            else if (best.TryPeek(out _, out var worst) && (sum > worst.Item1 || (sum == worst.Item1 && id > worst.Item2)))
            {
                best.EnqueueDequeue(id, (sum, id));
            }
        }

        var result = new long[best.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            result[i] = best.Dequeue();
        }

        return result;
    }

    private static double Time(Action action)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static float Dot(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static void RandomUnit(Random random, float[] vector)
    {
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] /= norm;
        }
    }
}
