using System.IO.Compression;
using System.Text;

namespace Feedback.Analysis.Deep;

/// <summary>
/// The classifier-v2 heads: three classifiers, for sentiment (4), the taxonomy's topics and whether a person must
/// act (2: no, yes), each a logistic regression or one with a hidden layer beside it (<see cref="HiddenLogits"/>), over one input vector: the sentence embedding, what the lexical model thinks (its log-probabilities) and what the in-domain
/// n-gram model thinks (its log-probabilities, <see cref="NgramModel"/>), with a temperature per head fitted on rows the
/// head was not trained on. Immutable; shared by all threads.
/// </summary>
public sealed class DeepHeads
{
    public const string ResourceName = "deep.model";
    public const int SentimentCount = 4;

    /// <summary>The action head's classes: 0 nobody must act, 1 a person must act.</summary>
    public const int ActionCount = 2;

    /// <summary>The lexical model's topics: the built-in six, whatever the taxonomy.</summary>
    public const int LexicalTopicCount = 6;

    /// <summary>Log-probabilities are floored here, so one near-zero lexical probability cannot dominate.</summary>
    private const double LogFloor = -7;

    // FBD3: the n-gram model's inputs and tables joined the file (deep-3). FBD4: the action head and the n-gram action table (deep-4).
    // FBD5: the sentiment and action heads' hidden units (deep-5).
    private const string Magic = "FBD5";

    private static readonly Lazy<DeepHeads> Embedded = new(() =>
    {
        using var stream = typeof(DeepHeads).Assembly.GetManifestResourceStream("Feedback.Analysis." + ResourceName)
            ?? throw new InvalidOperationException($"The deep model resource is missing: run ./run.sh train");
        return Read(stream);
    });

    public DeepHeads(
        string version, Taxonomy taxonomy, NgramModel ngrams, float[] sentimentWeights, float[] topicWeights, float[] actionWeights,
        float sentimentTemperature, float topicTemperature, float actionTemperature, int sentimentHidden = 0, int actionHidden = 0)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        ArgumentNullException.ThrowIfNull(ngrams);
        if (ngrams.TopicCount != taxonomy.Topics.Count || ngrams.Sentiment.Classes != SentimentCount || ngrams.Action.Classes != ActionCount)
        {
            throw new ArgumentException("the n-gram model was trained for another taxonomy", nameof(ngrams));
        }

        var length = InputLengthFor(taxonomy.Topics.Count);
        if (sentimentWeights.Length != WeightCount(SentimentCount, length, sentimentHidden) || topicWeights.Length != taxonomy.Topics.Count * length
            || actionWeights.Length != WeightCount(ActionCount, ActionInputLengthFor(taxonomy.Topics.Count), actionHidden))
        {
            throw new ArgumentException("weights must be [class * InputLength + input], after [unit * InputLength + input] with hidden units", nameof(sentimentWeights));
        }

        Version = version;
        Taxonomy = taxonomy;
        Ngrams = ngrams;
        InputLength = length;
        SentimentWeights = sentimentWeights;
        TopicWeights = topicWeights;
        ActionWeights = actionWeights;
        SentimentTemperature = sentimentTemperature;
        TopicTemperature = topicTemperature;
        ActionTemperature = actionTemperature;
        SentimentHidden = sentimentHidden;
        ActionHidden = actionHidden;
    }

    public static DeepHeads Default => Embedded.Value;

    /// <summary>The model name answers carry (e.g. <c>deep-5</c>); cache keys include it.</summary>
    public string Version { get; }

    /// <summary>The topics the topic head was trained for, in the order of its classes.</summary>
    public Taxonomy Taxonomy { get; }

    public int TopicCount => Taxonomy.Topics.Count;

    /// <summary>The in-domain n-gram model whose log-probabilities are inputs.</summary>
    public NgramModel Ngrams { get; }

    /// <summary>
    /// The sentence vector, the lexical model's 4 sentiment and 6 topic log-probabilities, the n-gram model's 4 sentiment,
    /// one per taxonomy topic and 2 action log-probabilities, then a constant 1 (bias).
    /// </summary>
    public int InputLength { get; }

    public static int InputLengthFor(int topics) => SentenceEncoder.Dimensions + SentimentCount + LexicalTopicCount + SentimentCount + topics + ActionCount + 1;

    /// <summary>
    /// The action head's input: the heads' input with the sentiment and topic heads' log-probabilities before the bias. A
    /// person must act on a neutral refund request and not on a mixed note about fonts: the action head reads what the
    /// other heads decided together with what they read (stacking; the trainer gives it out-of-fold answers).
    /// </summary>
    public static int ActionInputLengthFor(int topics) => InputLengthFor(topics) + SentimentCount + topics + (SentimentCount * topics);

    /// <summary>The action head's input from the heads' input and the other two heads' calibrated probabilities.</summary>
    internal static double[] ActionInput(ReadOnlySpan<double> input, ReadOnlySpan<double> sentiment, ReadOnlySpan<double> topic)
    {
        var x = new double[input.Length + sentiment.Length + topic.Length + (sentiment.Length * topic.Length)];
        input[..^1].CopyTo(x);
        var at = input.Length - 1;
        foreach (var p in sentiment)
        {
            x[at++] = Log(p);
        }

        foreach (var p in topic)
        {
            x[at++] = Log(p);
        }

        // Each sentiment with each topic: a mixed note about the layout rarely needs a person, a mixed one about a
        // refund often does, and a linear head over the separate probabilities cannot tell those apart.
        foreach (var s in sentiment)
        {
            foreach (var t in topic)
            {
                x[at++] = s * t;
            }
        }

        x[at] = input[^1];
        return x;
    }

    /// <summary>Laid out [class * InputLength + input].</summary>
    internal float[] SentimentWeights { get; }

    internal float[] TopicWeights { get; }

    /// <summary>Trained on the in-domain rows' <c>action</c> label (a person must act), which the alert rule reads; laid out [class * ActionInputLength + input].</summary>
    internal float[] ActionWeights { get; }

    public float SentimentTemperature { get; }

    public float TopicTemperature { get; }

    public float ActionTemperature { get; }

    /// <summary>The sentiment head's hidden units (0: a logistic regression).</summary>
    public int SentimentHidden { get; }

    /// <summary>The action head's hidden units (0: a logistic regression).</summary>
    public int ActionHidden { get; }

    /// <summary>How many weights a head of <paramref name="classes"/> over <paramref name="inputs"/> with <paramref name="hidden"/> units has.</summary>
    internal static int WeightCount(int classes, int inputs, int hidden) =>
        hidden == 0 ? classes * inputs : (hidden * inputs) + (classes * (inputs + hidden));

    /// <summary>The input vector for one message (its text as the classifiers read it: normalised).</summary>
    public double[] Input(string text, ReadOnlySpan<float> embedding, SentimentScores lexicalSentiment, IReadOnlyList<double> lexicalTopics) =>
        Input(embedding, lexicalSentiment, lexicalTopics, Ngrams.Read(text));

    /// <summary>The input vector from its parts; the trainer gives n-gram answers of a model that did not see the row.</summary>
    internal static double[] Input(
        ReadOnlySpan<float> embedding, SentimentScores lexicalSentiment, IReadOnlyList<double> lexicalTopics, (double[] Sentiment, double[] Topic, double[] Action) ngrams)
    {
        var x = new double[InputLengthFor(ngrams.Topic.Length)];
        for (var d = 0; d < SentenceEncoder.Dimensions; d++)
        {
            x[d] = embedding[d];
        }

        var at = SentenceEncoder.Dimensions;
        x[at++] = Log(lexicalSentiment.Positive);
        x[at++] = Log(lexicalSentiment.Negative);
        x[at++] = Log(lexicalSentiment.Neutral);
        x[at++] = Log(lexicalSentiment.Mixed);
        for (var t = 0; t < LexicalTopicCount; t++)
        {
            x[at++] = Log(lexicalTopics[t]);
        }

        foreach (var v in ngrams.Sentiment)
        {
            x[at++] = v;
        }

        foreach (var v in ngrams.Topic)
        {
            x[at++] = v;
        }

        foreach (var v in ngrams.Action)
        {
            x[at++] = v;
        }

        x[at] = 1;
        return x;
    }

    private static double Log(double p) => Math.Max(Math.Log(p), LogFloor);

    /// <summary>Calibrated probabilities of each head for one input vector; <c>Action</c> is the probability that a person must act.</summary>
    public (double[] Sentiment, double[] Topic, double Action) Predict(ReadOnlySpan<double> input)
    {
        var sentiment = ProbabilitiesOf(SentimentWeights, SentimentHidden, SentimentCount, input, SentimentTemperature);
        var topic = ProbabilitiesOf(TopicWeights, 0, TopicCount, input, TopicTemperature);
        return (sentiment, topic, ProbabilitiesOf(ActionWeights, ActionHidden, ActionCount, ActionInput(input, sentiment, topic), ActionTemperature)[1]);
    }

    internal static double[] ProbabilitiesOf(float[] weights, int hidden, int classes, ReadOnlySpan<double> input, double temperature)
    {
        var p = new double[classes];
        Logits(weights, hidden, classes, input, p);
        Probabilities.Softmax(p, temperature);
        return p;
    }

    /// <summary>A head's logits: <see cref="Logits(float[], int, ReadOnlySpan{double}, Span{double})"/> without hidden units, <see cref="HiddenLogits"/> with.</summary>
    internal static void Logits(float[] weights, int hidden, int classes, ReadOnlySpan<double> input, Span<double> logits)
    {
        if (hidden == 0)
        {
            Logits(weights, classes, input, logits);
        }
        else
        {
            HiddenLogits(weights, hidden, classes, input, logits);
        }
    }

    /// <summary>
    /// logits = W·x + V·relu(U·x): U is laid out [unit * input] first, then each class's row over the input followed by
    /// the hidden units ([class * (input + units)]). The skip part W is what a logistic head would learn; the units add
    /// what a linear boundary cannot draw.
    /// </summary>
    internal static void HiddenLogits(float[] weights, int hidden, int classes, ReadOnlySpan<double> input, Span<double> logits)
    {
        var n = input.Length;
        Span<double> units = hidden <= 256 ? stackalloc double[hidden] : new double[hidden];
        for (var j = 0; j < hidden; j++)
        {
            var row = weights.AsSpan(j * n, n);
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += row[i] * input[i];
            }

            units[j] = Math.Max(0, sum);
        }

        var width = n + hidden;
        for (var c = 0; c < classes; c++)
        {
            var row = weights.AsSpan((hidden * n) + (c * width), width);
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += row[i] * input[i];
            }

            for (var j = 0; j < hidden; j++)
            {
                sum += row[n + j] * units[j];
            }

            logits[c] = sum;
        }
    }

    internal static void Logits(float[] weights, int classes, ReadOnlySpan<double> input, Span<double> logits)
    {
        var n = input.Length;
        for (var c = 0; c < classes; c++)
        {
            var row = weights.AsSpan(c * n, n);
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += row[i] * input[i];
            }

            logits[c] = sum;
        }
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            writer.Write(InputLength);
            writer.Write(SentimentTemperature);
            writer.Write(TopicTemperature);
            writer.Write(ActionTemperature);
            writer.Write(SentimentHidden);
            writer.Write(ActionHidden);
            writer.Write(Taxonomy.Fallback.Name);
            writer.Write(Taxonomy.Definitions.Count);
            foreach (var definition in Taxonomy.Definitions)
            {
                // Examples stay in the taxonomy file: the heads have learnt them.
                writer.Write(definition.Topic.Name);
                writer.Write(definition.Description);
                writer.Write(string.Join(',', definition.Includes));
            }

            foreach (var w in SentimentWeights)
            {
                writer.Write(w);
            }

            foreach (var w in TopicWeights)
            {
                writer.Write(w);
            }

            foreach (var w in ActionWeights)
            {
                writer.Write(w);
            }

            // The n-gram tables are 2^bits rows of log-likelihoods, most of them for buckets no row has filled, which all
            // hold the same value per class: compressed, megabytes become a few hundred kilobytes.
            writer.Write(Ngrams.Bits);
            using var compressed = new MemoryStream();
            using (var zip = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            using (var tables = new BinaryWriter(zip, Encoding.UTF8, leaveOpen: true))
            {
                foreach (var table in (NgramTable[])[Ngrams.Sentiment, Ngrams.Topic, Ngrams.Action])
                {
                    foreach (var v in table.Base)
                    {
                        tables.Write(v);
                    }

                    foreach (var v in table.Offset)
                    {
                        tables.Write(v);
                    }
                }
            }

            writer.Write((int)compressed.Length);
            writer.Write(compressed.GetBuffer(), 0, (int)compressed.Length);
        }

        return buffer.ToArray();
    }

    public static DeepHeads Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        // FBD4 files (deep-4) read as heads without hidden units.
        var magic = Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length));
        if (magic is not (Magic or "FBD4"))
        {
            throw new InvalidDataException("not a deep model file");
        }

        var version = reader.ReadString();
        var inputLength = reader.ReadInt32();
        var sentimentTemperature = reader.ReadSingle();
        var topicTemperature = reader.ReadSingle();
        var actionTemperature = reader.ReadSingle();
        var sentimentHidden = magic == Magic ? reader.ReadInt32() : 0;
        var actionHidden = magic == Magic ? reader.ReadInt32() : 0;
        var fallback = new Topic(reader.ReadString());
        var definitions = new TopicDefinition[reader.ReadInt32()];
        for (var i = 0; i < definitions.Length; i++)
        {
            var name = new Topic(reader.ReadString());
            var description = reader.ReadString();
            var includes = reader.ReadString();
            definitions[i] = new TopicDefinition(name, description, [.. includes.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(t => new Topic(t))], []);
        }

        var taxonomy = new Taxonomy(definitions, fallback);
        if (inputLength != InputLengthFor(taxonomy.Topics.Count))
        {
            throw new InvalidDataException("the deep model was trained for another input length");
        }

        var sentiment = new float[WeightCount(SentimentCount, inputLength, sentimentHidden)];
        var topic = new float[taxonomy.Topics.Count * inputLength];
        for (var i = 0; i < sentiment.Length; i++)
        {
            sentiment[i] = reader.ReadSingle();
        }

        for (var i = 0; i < topic.Length; i++)
        {
            topic[i] = reader.ReadSingle();
        }

        var action = new float[WeightCount(ActionCount, ActionInputLengthFor(taxonomy.Topics.Count), actionHidden)];
        for (var i = 0; i < action.Length; i++)
        {
            action[i] = reader.ReadSingle();
        }

        var bits = reader.ReadInt32();
        var compressedLength = reader.ReadInt32();
        using var zip = new ZLibStream(new MemoryStream(reader.ReadBytes(compressedLength)), CompressionMode.Decompress);
        using var tables = new BinaryReader(zip);
        NgramTable ReadTable(int classes)
        {
            var floor = new float[classes];
            var offsets = new Half[classes << bits];
            for (var c = 0; c < classes; c++)
            {
                floor[c] = tables.ReadSingle();
            }

            for (var i = 0; i < offsets.Length; i++)
            {
                offsets[i] = tables.ReadHalf();
            }

            return new NgramTable(classes, floor, offsets);
        }

        var ngramSentiment = ReadTable(SentimentCount);
        var ngramTopic = ReadTable(taxonomy.Topics.Count);
        var ngrams = new NgramModel(bits, ngramSentiment, ngramTopic, ReadTable(ActionCount));
        return new DeepHeads(version, taxonomy, ngrams, sentiment, topic, action, sentimentTemperature, topicTemperature, actionTemperature, sentimentHidden, actionHidden);
    }
}
