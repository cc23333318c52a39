using System.IO.Compression;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Feedback.Analysis.Local.Model;

/// <summary>
/// The trained weights: a 4-class sentiment model and a 6-class topic model over the same features, the
/// clause model, and the temperatures fitted on held-out rows. Immutable once loaded; shared by all threads.
/// </summary>
/// <remarks>
/// In memory the ten weights of a feature (four sentiments, then six topics) sit side by side, so scoring a
/// message touches one cache line per feature instead of two: memory latency, not arithmetic, is the cost.
/// </remarks>
internal sealed class TrainedModel
{
    public const int SentimentCount = 4;
    public const int TopicCount = 6;
    public const int Stride = SentimentCount + TopicCount;
    public const string ResourceName = "local.model";

    private const string Magic = "FBM2";
    private const int FormatVersion = 2;

    private static readonly Lazy<TrainedModel> Embedded = new(
        () =>
        {
            using var stream = EmbeddedData.Open(ResourceName);
            return Read(stream);
        },
        LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly float[] weights;

    /// <param name="sentiment">Weights laid out [feature * 4 + sentiment], sentiments in enum order.</param>
    /// <param name="topic">Weights laid out [feature * 6 + topic], topics in enum order.</param>
    /// <param name="taxonomyPrior">How many logits one unit of taxonomy phrase score adds to its own topic.</param>
    /// <param name="generalShift">Logits taken off general: the data sets label most app reviews general, customers' messages far fewer.</param>
    /// <param name="topicConfidence">Held-out accuracy at top topic probability 0.05, 0.15, ..., 0.95 (monotone); null for the identity.</param>
    public TrainedModel(float[] sentiment, float[] topic, ClauseModel clauses, float taxonomyPrior, float sentimentTemperature, float topicTemperature, float generalShift = 0, float[]? topicConfidence = null)
        : this(Interleave(sentiment, topic), clauses, taxonomyPrior, sentimentTemperature, topicTemperature, generalShift, topicConfidence)
    {
    }

    /// <param name="interleaved">Weights laid out [feature * Stride + class], four sentiments then six topics.</param>
    private TrainedModel(float[] interleaved, ClauseModel clauses, float taxonomyPrior, float sentimentTemperature, float topicTemperature, float generalShift, float[]? topicConfidence)
    {
        weights = interleaved;
        Clauses = clauses;
        TaxonomyPrior = taxonomyPrior;
        SentimentTemperature = sentimentTemperature;
        TopicTemperature = topicTemperature;
        GeneralShift = generalShift;
        TopicConfidenceMap = topicConfidence ?? [.. Enumerable.Range(0, ConfidenceKnots).Select(k => (k + 0.5f) / ConfidenceKnots)];
    }

    /// <summary>Knots of the topic confidence map, at the centres of ten equal bins of the top probability.</summary>
    public const int ConfidenceKnots = 10;

    public float GeneralShift { get; }

    /// <summary>
    /// Mixed is read at the clause level: with praise and complaint in different clauses (by the clause model
    /// or by the lexicon) the mixed logit gets this nudge; without them it loses <see cref="MixedPenalty"/>, so
    /// a tweet or a polite bug report is not called mixed on word statistics alone.
    /// </summary>
    public const float MixedShift = 0.4f;

    public const float MixedPenalty = 2f;

    /// <summary>
    /// The smaller loss when a contrast word ("but", "however", "unfortunately") marks a turn the clause scores
    /// missed: "the keyboard is alright, but the plate around it is cheap plastic" has no clause the clause model
    /// calls praise, yet the writer weighs two sides.
    /// </summary>
    public const float MixedPenaltyWithContrast = 1f;

    // The cue priors' shifts in logits, set on the project's hand-written fixtures (product_feedback.csv,
    // saas_feedback_check.csv, topic_examples.csv) while watching every shared set's held-out figures.

    /// <summary>Taken off neutral per unresolved problem cue (at most two): a crash report is a complaint.</summary>
    public const double ProblemNeutralShift = 1.5;

    /// <summary>Taken off positive per unresolved problem cue (at most two): praise plus a live problem is mixed at best.</summary>
    public const double ProblemPositiveShift = 0.8;

    /// <summary>Added to mixed when one clause praises and another reports a problem or complains.</summary>
    public const double ClauseMixedShift = 1.2;

    /// <summary>Taken off positive for a request without praise: "it would be great if you added X" asks, it does not praise.</summary>
    public const double RequestPositiveShift = 1.2;

    public float[] TopicConfidenceMap { get; }

    /// <summary>How often a topic answer with this (tempered) probability was right on held-out rows, interpolated between knots.</summary>
    public double TopicConfidence(double probability)
    {
        var x = (probability * ConfidenceKnots) - 0.5;
        if (x <= 0)
        {
            return TopicConfidenceMap[0];
        }

        if (x >= ConfidenceKnots - 1)
        {
            return TopicConfidenceMap[^1];
        }

        var k = (int)x;
        var f = x - k;
        return (TopicConfidenceMap[k] * (1 - f)) + (TopicConfidenceMap[k + 1] * f);
    }

    public static TrainedModel Default => Embedded.Value;

    public ClauseModel Clauses { get; }

    public float TaxonomyPrior { get; }

    public float SentimentTemperature { get; }

    public float TopicTemperature { get; }

    /// <summary>Bytes the weight arrays occupy in memory.</summary>
    public long MemoryBytes => sizeof(float) * ((long)weights.Length + Clauses.Weights.Length);

    public TrainedModel WithTemperatures(float sentiment, float topic) =>
        new(Sentiment(), Topic(), Clauses, TaxonomyPrior, sentiment, topic, GeneralShift, TopicConfidenceMap);

    public TrainedModel WithTopicConfidence(float[] map) =>
        new(Sentiment(), Topic(), Clauses, TaxonomyPrior, SentimentTemperature, TopicTemperature, GeneralShift, map);

    /// <summary>The sentiment weights of one feature (four, in enum order).</summary>
    public ReadOnlySpan<float> SentimentRow(int feature) => weights.AsSpan(feature * Stride, SentimentCount);

    /// <summary>The topic weights of one feature (six, in enum order).</summary>
    public ReadOnlySpan<float> TopicRow(int feature) => weights.AsSpan((feature * Stride) + SentimentCount, TopicCount);

    /// <summary>Raw (untempered) logits of both models in one pass over the features; topic includes the taxonomy prior.</summary>
    public void Logits(FeatureVector vector, Span<double> sentiment, Span<double> topic)
    {
        Span<double> sums = stackalloc double[Stride];
        Accumulate(vector.Indices, vector.Values, sums);
        sums[..SentimentCount].CopyTo(sentiment);
        sentiment[(int)Analysis.Sentiment.Mixed] += MixedPrior(vector.Dense);
        ApplyCuePriors(vector.Priors, sentiment);
        sums[SentimentCount..].CopyTo(topic);
        AddTaxonomyPrior(vector.Dense, TaxonomyPrior, GeneralShift, topic);
    }

    /// <summary>Which feature ahead of the current one has its row fetched into the cache while this one is added.</summary>
    private const int PrefetchDistance = 8;

    /// <summary>
    /// Adds each feature's ten weights times its value to <paramref name="sums"/>. Each product is rounded to a float
    /// and then added in double, feature by feature, exactly as a scalar loop would: the vectors only do the ten
    /// classes side by side, so every answer stays the same to the bit. The rows are scattered over 10 MB, so the
    /// cost is waiting for memory; the prefetch asks for a row several features before it is needed.
    /// </summary>
    private unsafe void Accumulate(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<double> sums)
    {
        if (Avx.IsSupported)
        {
            AccumulateWide(indices, values, sums);
            return;
        }

        var sentimentLow = Vector128<double>.Zero;
        var sentimentHigh = Vector128<double>.Zero;
        var topicLow = Vector128<double>.Zero;
        var topicHigh = Vector128<double>.Zero;
        double topic4 = 0, topic5 = 0;
        fixed (float* rows = weights)
        fixed (int* index = indices)
        fixed (float* value = values)
        {
            var count = indices.Length;
            for (var k = 0; k < count; k++)
            {
                if (Sse.IsSupported && k + PrefetchDistance < count)
                {
                    var ahead = rows + ((nint)index[k + PrefetchDistance] * Stride);
                    Sse.Prefetch0(ahead);
                    Sse.Prefetch0(ahead + Stride - 1);
                }

                var feature = index[k];
                if ((uint)feature >= (uint)FeatureLayout.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(indices), feature, "A feature index is past the model's weights.");
                }

                var row = rows + ((nint)feature * Stride);
                var v = value[k];
                var scale = Vector128.Create(v);
                var (first, second) = Vector128.Widen(Vector128.Load(row) * scale);
                sentimentLow += first;
                sentimentHigh += second;
                (first, second) = Vector128.Widen(Vector128.Load(row + 4) * scale);
                topicLow += first;
                topicHigh += second;
                topic4 += row[8] * v;
                topic5 += row[9] * v;
            }
        }

        sentimentLow.CopyTo(sums);
        sentimentHigh.CopyTo(sums[2..]);
        topicLow.CopyTo(sums[4..]);
        topicHigh.CopyTo(sums[6..]);
        sums[8] = topic4;
        sums[9] = topic5;
    }

    /// <summary>
    /// <see cref="Accumulate"/> with four doubles to a register: each feature is three loads of four weights, three
    /// float products and three conversions and additions, where the 16-byte registers need six of each plus two
    /// scalar products. The third load (weights 6 to 9) sums topics 2 and 3 a second time in its low half, which is
    /// dropped: its high half is topics 4 and 5. Every sum is the same, added in the same order, to the bit.
    /// </summary>
    private unsafe void AccumulateWide(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<double> sums)
    {
        var sentiment = Vector256<double>.Zero;
        var topicLow = Vector256<double>.Zero;
        var topicHigh = Vector256<double>.Zero;
        fixed (float* rows = weights)
        fixed (int* index = indices)
        fixed (float* value = values)
        {
            var count = indices.Length;
            for (var k = 0; k < count; k++)
            {
                if (k + PrefetchDistance < count)
                {
                    var ahead = rows + ((nint)index[k + PrefetchDistance] * Stride);
                    Sse.Prefetch0(ahead);
                    Sse.Prefetch0(ahead + Stride - 1);
                }

                var feature = index[k];
                if ((uint)feature >= (uint)FeatureLayout.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(indices), feature, "A feature index is past the model's weights.");
                }

                var row = rows + ((nint)feature * Stride);
                var scale = Vector128.Create(value[k]);
                sentiment += Avx.ConvertToVector256Double(Vector128.Load(row) * scale);
                topicLow += Avx.ConvertToVector256Double(Vector128.Load(row + 4) * scale);
                topicHigh += Avx.ConvertToVector256Double(Vector128.Load(row + 6) * scale);
            }
        }

        sentiment.CopyTo(sums);
        topicLow.CopyTo(sums[4..]);
        sums[8] = topicHigh[2];
        sums[9] = topicHigh[3];
    }

    /// <summary>What the clause-level reading adds to the mixed logit (see <see cref="MixedShift"/>).</summary>
    public static float MixedPrior(ReadOnlySpan<float> dense)
    {
        if (dense[FeatureLayout.ClauseBoth] > 0 || dense[FeatureLayout.VaderBoth] > 0)
        {
            return MixedShift;
        }

        return dense[FeatureLayout.Contrast] > 0 ? -MixedPenaltyWithContrast : -MixedPenalty;
    }

    /// <summary>
    /// The product-feedback cues' fixed shifts: an unresolved problem is neither neutral nor plain praise,
    /// praise and a complaint in separate clauses lean mixed, and a request without praise is not positive.
    /// </summary>
    public static void ApplyCuePriors(CuePriors priors, Span<double> sentiment)
    {
        if (priors.Problems > 0)
        {
            var strength = Math.Min(priors.Problems, 2);
            sentiment[(int)Analysis.Sentiment.Neutral] -= ProblemNeutralShift * strength;
            sentiment[(int)Analysis.Sentiment.Positive] -= ProblemPositiveShift * strength;
        }

        if (priors.PraiseAndComplaint)
        {
            sentiment[(int)Analysis.Sentiment.Mixed] += ClauseMixedShift;
        }

        if (priors.RequestWithoutPraise)
        {
            sentiment[(int)Analysis.Sentiment.Positive] -= RequestPositiveShift;
        }
    }

    /// <summary>
    /// The taxonomy's vote, added to the learned logits: it is what lets the model name topics the
    /// training data barely has (performance, ux) or lacks (billing).
    /// </summary>
    public static void AddTaxonomyPrior(ReadOnlySpan<float> dense, float prior, float generalShift, Span<double> logits)
    {
        for (var t = 0; t < FeatureLayout.TaxonomyTopics.Length; t++)
        {
            logits[FeatureLayout.TaxonomyTopics[t].BuiltInIndex] += prior * dense[FeatureLayout.TaxonomyFirst + t];
        }

        // The taxonomy's "general" baseline: a topic needs more than one weak phrase to beat it.
        logits[Analysis.Topic.General.BuiltInIndex] += (prior / 3) - generalShift;
    }

    private static float[] Interleave(float[] sentiment, float[] topic)
    {
        var interleaved = new float[FeatureLayout.Count * Stride];
        for (var f = 0; f < FeatureLayout.Count; f++)
        {
            sentiment.AsSpan(f * SentimentCount, SentimentCount).CopyTo(interleaved.AsSpan(f * Stride));
            topic.AsSpan(f * TopicCount, TopicCount).CopyTo(interleaved.AsSpan((f * Stride) + SentimentCount));
        }

        return interleaved;
    }

    private float[] Sentiment() => Slice(0, SentimentCount);

    private float[] Topic() => Slice(SentimentCount, TopicCount);

    private float[] Slice(int offset, int count)
    {
        var result = new float[FeatureLayout.Count * count];
        for (var f = 0; f < FeatureLayout.Count; f++)
        {
            weights.AsSpan((f * Stride) + offset, count).CopyTo(result.AsSpan(f * count));
        }

        return result;
    }

    /// <summary>Writes the model gzipped, weights quantised to 16 bits and near-zero weights dropped; the same model always gives the same bytes.</summary>
    public void Write(Stream destination)
    {
        using var gzip = new GZipStream(destination, CompressionLevel.SmallestSize, leaveOpen: true);
        using var writer = new BinaryWriter(gzip, Encoding.UTF8, leaveOpen: true);
        writer.Write(Encoding.ASCII.GetBytes(Magic));
        writer.Write(FormatVersion);
        writer.Write(FeatureLayout.HashBits);
        writer.Write(FeatureLayout.DenseCount);
        writer.Write(TaxonomyPrior);
        writer.Write(SentimentTemperature);
        writer.Write(TopicTemperature);
        writer.Write(Clauses.Bias);
        writer.Write(GeneralShift);
        foreach (var knot in TopicConfidenceMap)
        {
            writer.Write(knot);
        }

        WriteWeights(writer, Sentiment());
        WriteWeights(writer, Topic());
        WriteWeights(writer, Clauses.Weights);
    }

    public static TrainedModel Read(Stream source)
    {
        // Inflated in one go: the weights are read a few bytes at a time, and from the gzip stream every such read was
        // a call into the inflater (about a third of a second at each start of the CLI or the server).
        using var inflated = new MemoryStream(InflatedLength(source));
        using (var gzip = new GZipStream(source, CompressionMode.Decompress))
        {
            gzip.CopyTo(inflated);
        }

        inflated.Position = 0;
        using var reader = new BinaryReader(inflated, Encoding.UTF8);
        if (Encoding.ASCII.GetString(reader.ReadBytes(4)) != Magic || reader.ReadInt32() != FormatVersion)
        {
            throw new InvalidDataException("Not a model file of this version; run ./run.sh train.");
        }

        if (reader.ReadInt32() != FeatureLayout.HashBits || reader.ReadInt32() != FeatureLayout.DenseCount)
        {
            throw new InvalidDataException("The model was trained for a different feature layout; run ./run.sh train.");
        }

        var prior = reader.ReadSingle();
        var sentimentTemperature = reader.ReadSingle();
        var topicTemperature = reader.ReadSingle();
        var clauseBias = reader.ReadSingle();
        var generalShift = reader.ReadSingle();
        var map = new float[ConfidenceKnots];
        for (var k = 0; k < map.Length; k++)
        {
            map[k] = reader.ReadSingle();
        }

        // Read straight into the interleaved rows: separate sentiment and topic arrays would be 10 MB of garbage
        // at every start, which the GC keeps committed for a while (issue #3's resident memory).
        var rows = new float[FeatureLayout.Count * Stride];
        ReadWeights(reader, rows, Stride, 0, SentimentCount);
        ReadWeights(reader, rows, Stride, SentimentCount, TopicCount);
        var clauses = new float[FeatureLayout.HashedCount];
        ReadWeights(reader, clauses, 1, 0, 1);
        return new TrainedModel(rows, new ClauseModel(clauses, clauseBias), prior, sentimentTemperature, topicTemperature, generalShift, map);
    }

    /// <summary>
    /// gzip's last four bytes: the inflated length (mod 4 GB), so the buffer is made once at its size instead of
    /// doubling up to it (8 MB of large-object garbage at every start); 0, a growing buffer, for a stream that cannot seek.
    /// </summary>
    private static int InflatedLength(Stream source)
    {
        if (!source.CanSeek || source.Length - source.Position < 18)
        {
            return 0;
        }

        var start = source.Position;
        source.Seek(-4, SeekOrigin.End);
        Span<byte> trailer = stackalloc byte[4];
        source.ReadExactly(trailer);
        source.Position = start;
        return Math.Max(0, System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(trailer));
    }

    /// <summary>Quantises one array: a scale, then (gap, 16-bit value) pairs for the weights that do not round to zero.</summary>
    private static void WriteWeights(BinaryWriter writer, float[] values)
    {
        var max = 0f;
        foreach (var w in values)
        {
            max = Math.Max(max, Math.Abs(w));
        }

        var scale = max == 0 ? 1f : max / short.MaxValue;
        var entries = new List<(int Index, short Value)>();
        for (var i = 0; i < values.Length; i++)
        {
            var q = (short)Math.Round(values[i] / scale, MidpointRounding.ToEven);
            if (Math.Abs((int)q) >= PruneBelow)
            {
                entries.Add((i, q));
            }
        }

        writer.Write(values.Length);
        writer.Write(scale);
        writer.Write(entries.Count);
        var last = 0;
        foreach (var (index, value) in entries)
        {
            writer.Write7BitEncodedInt(index - last);
            writer.Write(value);
            last = index;
        }
    }

    /// <summary>Quantised weights smaller than this (of 32,767) are dropped: they cannot move a decision.</summary>
    private const int PruneBelow = 8;

    /// <summary>
    /// Reads one array written by <see cref="WriteWeights"/>, laid out [feature * width + class], into
    /// <paramref name="destination"/>'s rows of <paramref name="stride"/> values from column <paramref name="offset"/>.
    /// </summary>
    private static void ReadWeights(BinaryReader reader, float[] destination, int stride, int offset, int width)
    {
        var expectedLength = destination.Length / stride * width;
        var length = reader.ReadInt32();
        if (length != expectedLength)
        {
            throw new InvalidDataException($"A weight array has {length} entries, {expectedLength} expected.");
        }

        var scale = reader.ReadSingle();
        var count = reader.ReadInt32();
        var index = 0;
        for (var k = 0; k < count; k++)
        {
            index += reader.Read7BitEncodedInt();
            if ((uint)index >= (uint)length)
            {
                throw new InvalidDataException($"A weight index {index} is past the array's {length} entries.");
            }

            destination[(index / width * stride) + offset + (index % width)] = reader.ReadInt16() * scale;
        }
    }
}
