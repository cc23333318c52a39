using System.IO.Compression;
using System.Text;

namespace Feedback.Analysis.Local.Model;

/// <summary>
/// The trained weights: a 4-class sentiment model and a 6-class topic model over the same features, the
/// clause model, and the temperatures fitted on held-out rows. Immutable once loaded; shared by all threads.
/// </summary>
/// <param name="Sentiment">Weights laid out [feature * 4 + sentiment], sentiments in enum order.</param>
/// <param name="Topic">Weights laid out [feature * 6 + topic], topics in enum order.</param>
/// <param name="TaxonomyPrior">How many logits one unit of taxonomy phrase score adds to its own topic.</param>
internal sealed record TrainedModel(
    float[] Sentiment,
    float[] Topic,
    ClauseModel Clauses,
    float TaxonomyPrior,
    float SentimentTemperature,
    float TopicTemperature)
{
    public const int SentimentCount = 4;
    public const int TopicCount = 6;
    public const string ResourceName = "local.model";

    private const string Magic = "FBM2";
    private const int FormatVersion = 1;

    private static readonly Lazy<TrainedModel> Embedded = new(
        () =>
        {
            using var stream = EmbeddedData.Open(ResourceName);
            return Read(stream);
        },
        LazyThreadSafetyMode.ExecutionAndPublication);

    public static TrainedModel Default => Embedded.Value;

    /// <summary>Bytes the weight arrays occupy in memory.</summary>
    public long MemoryBytes => sizeof(float) * ((long)Sentiment.Length + Topic.Length + Clauses.Weights.Length);

    public void SentimentLogits(FeatureVector vector, Span<double> logits) => Dot(Sentiment, SentimentCount, vector, logits);

    /// <param name="taxonomy">Taxonomy phrase scores as in the dense features (bug, feature_request, billing, performance, ux).</param>
    public void TopicLogits(FeatureVector vector, Span<double> logits)
    {
        Dot(Topic, TopicCount, vector, logits);
        AddTaxonomyPrior(vector.Dense, TaxonomyPrior, logits);
    }

    /// <summary>
    /// The taxonomy's vote, added to the learned logits: it is what lets the model name topics the
    /// training data barely has (performance, ux) or lacks (billing).
    /// </summary>
    public static void AddTaxonomyPrior(ReadOnlySpan<float> dense, float prior, Span<double> logits)
    {
        for (var t = 0; t < FeatureLayout.TaxonomyTopics.Length; t++)
        {
            logits[(int)FeatureLayout.TaxonomyTopics[t]] += prior * dense[FeatureLayout.TaxonomyFirst + t];
        }

        // The taxonomy's "general" baseline: a topic needs more than one weak phrase to beat it.
        logits[(int)Analysis.Topic.General] += prior / 3;
    }

    private static void Dot(float[] weights, int classes, FeatureVector vector, Span<double> logits)
    {
        logits[..classes].Clear();
        var indices = vector.Indices;
        var values = vector.Values;
        for (var k = 0; k < indices.Length; k++)
        {
            var row = weights.AsSpan(indices[k] * classes, classes);
            var v = values[k];
            for (var c = 0; c < classes; c++)
            {
                logits[c] += row[c] * v;
            }
        }
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
        WriteWeights(writer, Sentiment);
        WriteWeights(writer, Topic);
        WriteWeights(writer, Clauses.Weights);
    }

    public static TrainedModel Read(Stream source)
    {
        using var gzip = new GZipStream(source, CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip, Encoding.UTF8);
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
        var sentiment = ReadWeights(reader, FeatureLayout.Count * SentimentCount);
        var topic = ReadWeights(reader, FeatureLayout.Count * TopicCount);
        var clauses = ReadWeights(reader, FeatureLayout.HashedCount);
        return new TrainedModel(sentiment, topic, new ClauseModel(clauses, clauseBias), prior, sentimentTemperature, topicTemperature);
    }

    /// <summary>Quantises one array: a scale, then (gap, 16-bit value) pairs for the weights that do not round to zero.</summary>
    private static void WriteWeights(BinaryWriter writer, float[] weights)
    {
        var max = 0f;
        foreach (var w in weights)
        {
            max = Math.Max(max, Math.Abs(w));
        }

        var scale = max == 0 ? 1f : max / short.MaxValue;
        var entries = new List<(int Index, short Value)>();
        for (var i = 0; i < weights.Length; i++)
        {
            var q = (short)Math.Round(weights[i] / scale, MidpointRounding.ToEven);
            if (Math.Abs((int)q) >= PruneBelow)
            {
                entries.Add((i, q));
            }
        }

        writer.Write(weights.Length);
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

    private static float[] ReadWeights(BinaryReader reader, int expectedLength)
    {
        var length = reader.ReadInt32();
        if (length != expectedLength)
        {
            throw new InvalidDataException($"A weight array has {length} entries, {expectedLength} expected.");
        }

        var scale = reader.ReadSingle();
        var weights = new float[length];
        var count = reader.ReadInt32();
        var index = 0;
        for (var k = 0; k < count; k++)
        {
            index += reader.Read7BitEncodedInt();
            weights[index] = reader.ReadInt16() * scale;
        }

        return weights;
    }
}
