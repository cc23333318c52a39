using System.Diagnostics;
using System.Globalization;
using Feedback.Analysis.Local.Model;

namespace Feedback.Analysis.Local.Training;

/// <summary>What training produced: the model file's bytes and a short account of how it went.</summary>
internal sealed record TrainingResult(byte[] ModelBytes, TrainedModel Model, IReadOnlyList<string> Report);

/// <summary>
/// Trains the local model from the shared data sets' training split (held-out rows are only used to fit
/// the temperatures): first the clause model, then sentiment and topic over the same features.
/// </summary>
internal sealed class ModelTrainer(FeaturePipeline pipeline, TextWriter? log = null)
{
    private const int Seed = 20260401;

    /// <summary>A set with more labelled training rows than this counts as this many, so no set dominates.</summary>
    private const double RowCap = 2500;

    /// <summary>How strongly one unit of taxonomy score votes for its topic (a 2.0 phrase is two logits).</summary>
    private const float TaxonomyPrior = 4.5f;

    /// <summary>Logits taken off general at inference (see <see cref="TrainedModel.GeneralShift"/>).</summary>
    private const float GeneralShift = 0.75f;

    /// <summary>How far below general an untrained topic starts: one strong taxonomy phrase (2.0) lifts it above.</summary>
    private const float UntrainedTopicMargin = 0.5f;

    /// <summary>Class balance within a set: each class's rows count (rows / (classes * rows of the class)) to this power.</summary>
    private const double SentimentBalance = 0.75;

    private const double TopicBalance = 0.5;

    private static readonly SoftmaxSettings ClauseSettings = new(Epochs: 6, LearningRate: 0.1, L2: 1e-6, Seed);
    private static readonly SoftmaxSettings SentimentSettings = new(Epochs: 16, LearningRate: 0.06, L2: 1e-6, Seed + 1, AverageFrom: 8);
    private static readonly SoftmaxSettings TopicSettings = new(Epochs: 8, LearningRate: 0.1, L2: 1e-6, Seed + 2, AverageFrom: 4);

    private readonly List<string> report = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>
    /// How much one row of a set counts (before the row cap). Every set counts fully; tweets count 2.2,
    /// because TweetEval's three classes are a target of their own and its tweets are unlike every other set
    /// (at half weight the model learned too little of them). Laptop reviews count double: one product's
    /// features praised and faulted sentence by sentence, like product feedback, in a set of 1,500 rows that the
    /// 5,000-row sets outweighed (doubling them raised TweetEval and the binary average too). Sets without a
    /// class (TweetEval never says mixed) do not push that class down: the loss is masked per set.
    /// </summary>
    private static double SetFactor(string set) => set switch
    {
        "tweeteval_sentiment_test" => 2.2,
        "semeval14_laptops_sentence" => 2.0,
        "vu_appstore_reviews" => 2.0, // manually labelled app reviews: the closest set to product feedback
        _ => 1.0,
    };

    public TrainingResult Train(IReadOnlyList<LabelledRow> rows)
    {
        var training = rows.Where(r => !r.IsHeldOut).ToList();
        var heldOut = rows.Where(r => r.IsHeldOut).ToList();
        Note($"{rows.Count} labelled rows: {training.Count} for training, {heldOut.Count} held out");

        var (foldA, foldB, clauses) = TrainClauseModels(training);
        var sentimentWeights = BalancedWeights(training, r => r.Sentiment is { } s ? (int)s : -1, SentimentBalance);
        var topicWeights = BalancedWeights(training, r => r.Topic is { } t ? t.BuiltInIndex : -1, TopicBalance);
        var sentimentMasks = Masks(training, r => r.Sentiment is { } s ? (int)s : -1);
        var topicMasks = Masks(training, r => r.Topic is { } t ? t.BuiltInIndex : -1);

        var sentimentExamples = new List<TrainingExample>();
        var topicExamples = new List<TrainingExample>();
        foreach (var row in training)
        {
            // Cross-fitting: a training row's clause features come from the clause model that did not see it.
            var clauseModel = DataSplit.Bucket(row.Text) % 2 == 0 ? foldB : foldA;
            var features = pipeline.Run(row.Text, clauseModel).Features;
            var (indices, values) = (features.Indices.ToArray(), features.Values.ToArray());
            if (row.Sentiment is { } sentiment)
            {
                sentimentExamples.Add(new TrainingExample(indices, values, (int)sentiment, sentimentMasks[row.Set], (float)sentimentWeights[(row.Set, (int)sentiment)], null));
            }

            if (row.Topic is { } topic)
            {
                topicExamples.Add(new TrainingExample(indices, values, topic.BuiltInIndex, topicMasks[row.Set], (float)topicWeights[(row.Set, topic.BuiltInIndex)], null));
            }
        }

        Note($"features extracted: {sentimentExamples.Count} sentiment rows, {topicExamples.Count} topic rows");
        var sentimentModel = SoftmaxTrainer.Train(sentimentExamples, FeatureLayout.Count, TrainedModel.SentimentCount, SentimentSettings);
        Note("sentiment model trained");
        var topicModel = SoftmaxTrainer.Train(topicExamples, FeatureLayout.Count, TrainedModel.TopicCount, TopicSettings);
        GiveUntrainedTopicsGeneralWeights(topicModel, topicMasks.Values.Aggregate(0, (a, m) => a | m));
        Note("topic model trained");

        // Round-trip through the file format first, so the temperatures are fitted to the weights that ship.
        var draft = RoundTrip(new TrainedModel(sentimentModel, topicModel, clauses, TaxonomyPrior, 1, 1, GeneralShift));
        var sentimentTemperature = Calibrate("sentiment", heldOut.Where(r => r.Sentiment is not null).ToList(), draft, sentimentWeightsFor: true);
        var topicTemperature = Calibrate("topic", heldOut.Where(r => r.Topic is not null).ToList(), draft, sentimentWeightsFor: false);
        var tempered = draft.WithTemperatures(sentimentTemperature, topicTemperature);
        var model = tempered.WithTopicConfidence(TopicConfidenceMap(heldOut.Where(r => r.Topic is not null).ToList(), tempered));
        var bytes = Serialize(model);
        Note(string.Create(CultureInfo.InvariantCulture, $"model: {bytes.Length / 1024.0 / 1024:0.00} MB on disk, {model.MemoryBytes / 1024.0 / 1024:0.0} MB of weights in memory"));
        return new TrainingResult(bytes, RoundTrip(model), report);
    }

    private (ClauseModel FoldA, ClauseModel FoldB, ClauseModel All) TrainClauseModels(List<LabelledRow> training)
    {
        var weights = RowWeights(training, r => r.Sentiment is Sentiment.Positive or Sentiment.Negative);
        var examples = new List<(int Fold, TrainingExample Example)>();
        foreach (var row in training)
        {
            if (row.Sentiment is not (Sentiment.Positive or Sentiment.Negative))
            {
                continue;
            }

            var (indices, values) = FeatureExtractor.WholeTextWords(pipeline.Run(row.Text, clauses: null).Features);
            var label = row.Sentiment == Sentiment.Positive ? 0 : 1;
            var example = new TrainingExample([.. indices, FeatureLayout.HashedCount + FeatureLayout.Bias], [.. values, 1f], label, 0b11, (float)weights[row.Set], null);
            examples.Add((DataSplit.Bucket(row.Text) % 2, example));
        }

        ClauseModel Fit(Func<int, bool> fold, int seedOffset)
        {
            var chosen = examples.Where(e => fold(e.Fold)).Select(e => e.Example).ToList();
            var w = SoftmaxTrainer.Train(chosen, FeatureLayout.Count, 2, ClauseSettings with { Seed = ClauseSettings.Seed + seedOffset });
            var difference = new float[FeatureLayout.HashedCount];
            for (var f = 0; f < difference.Length; f++)
            {
                difference[f] = w[2 * f] - w[(2 * f) + 1];
            }

            var bias = FeatureLayout.HashedCount + FeatureLayout.Bias;
            return new ClauseModel(difference, w[2 * bias] - w[(2 * bias) + 1]);
        }

        var result = (Fit(f => f == 0, 10), Fit(f => f == 1, 11), Fit(_ => true, 12));
        Note($"clause models trained on {examples.Count} positive/negative rows (two folds and all)");
        return result;
    }

    /// <summary>Fits one temperature on held-out rows by minimising the (unweighted) log loss over a fixed grid.</summary>
    private float Calibrate(string task, List<LabelledRow> rows, TrainedModel model, bool sentimentWeightsFor)
    {
        if (rows.Count == 0)
        {
            Note($"{task}: no held-out rows, temperature 1");
            return 1;
        }

        // Unweighted: the confidence a user sees should mean "right this often on real rows", not on reweighted ones.
        var weights = rows.Select(r => r.Set).Distinct(StringComparer.Ordinal).ToDictionary(s => s, _ => 1.0, StringComparer.Ordinal);
        var logits = new List<(double[] Logits, int Label, double Weight)>(rows.Count);
        foreach (var row in rows)
        {
            var features = pipeline.Run(row.Text, model.Clauses).Features;
            var sentimentLogits = new double[TrainedModel.SentimentCount];
            var topicLogits = new double[TrainedModel.TopicCount];
            model.Logits(features, sentimentLogits, topicLogits);
            var l = sentimentWeightsFor ? sentimentLogits : topicLogits;

            logits.Add((l, sentimentWeightsFor ? (int)row.Sentiment!.Value : row.Topic!.Value.BuiltInIndex, weights[row.Set]));
        }

        var best = 1f;
        var bestLoss = double.MaxValue;
        for (var step = 20; step <= 400; step++)
        {
            var temperature = step / 100f;
            var loss = logits.Sum(x => x.Weight * -Math.Log(Math.Max(Probabilities(x.Logits, temperature)[x.Label], 1e-12)));
            if (loss < bestLoss)
            {
                (best, bestLoss) = (temperature, loss);
            }
        }

        var accuracy = logits.Average(x => Analysis.Probabilities.Argmax(x.Logits) == x.Label ? 1.0 : 0);
        Note(string.Create(CultureInfo.InvariantCulture,
            $"{task}: held-out accuracy {accuracy:0.000}, temperature {best:0.00}, ECE {Ece(logits, 1):0.000} before, {Ece(logits, best):0.000} after"));
        return best;
    }

    /// <summary>
    /// How often the topic answer is right, per tenth of its tempered probability, on the held-out rows
    /// (unweighted), made monotone by pooling adjacent violators: the taxonomy prior makes some confident
    /// answers wrong more often than their probability says, so the probability alone is not the confidence.
    /// </summary>
    private float[] TopicConfidenceMap(List<LabelledRow> rows, TrainedModel model)
    {
        const int Knots = TrainedModel.ConfidenceKnots;
        var right = new double[Knots];
        var count = new double[Knots];
        Span<double> sentiment = stackalloc double[TrainedModel.SentimentCount];
        Span<double> topic = stackalloc double[TrainedModel.TopicCount];
        foreach (var row in rows)
        {
            model.Logits(pipeline.Run(row.Text, model.Clauses).Features, sentiment, topic);
            var p = Probabilities(topic.ToArray(), model.TopicTemperature);
            var top = Analysis.Probabilities.Argmax(p);
            var bin = Math.Min((int)(p[top] * Knots), Knots - 1);
            count[bin]++;
            right[bin] += top == row.Topic!.Value.BuiltInIndex ? 1 : 0;
        }

        // Pool adjacent violators over the bins (a bin with no rows takes its neighbours' value).
        var blocks = new List<(double Right, double Count, int Bins)>();
        for (var b = 0; b < Knots; b++)
        {
            blocks.Add((right[b] + (0.5 * ((b + 0.5) / Knots)), count[b] + 0.5, 1));
            while (blocks.Count > 1 && blocks[^2].Right / blocks[^2].Count > blocks[^1].Right / blocks[^1].Count)
            {
                var (r, c, n) = blocks[^1];
                blocks.RemoveAt(blocks.Count - 1);
                blocks[^1] = (blocks[^1].Right + r, blocks[^1].Count + c, blocks[^1].Bins + n);
            }
        }

        var map = blocks.SelectMany(b => Enumerable.Repeat((float)(b.Right / b.Count), b.Bins)).ToArray();
        Note("topic confidence map (held-out accuracy per tenth of probability): " + string.Join(' ', map.Select(m => m.ToString("0.00", CultureInfo.InvariantCulture))));
        return map;
    }

    private static double Ece(List<(double[] Logits, int Label, double Weight)> rows, float temperature)
    {
        const int Bins = 10;
        var count = new int[Bins];
        var correct = new int[Bins];
        var confidence = new double[Bins];
        foreach (var (l, label, _) in rows)
        {
            var p = Probabilities(l, temperature);
            var top = Analysis.Probabilities.Argmax(l);
            var bin = Math.Min((int)(p[top] * Bins), Bins - 1);
            count[bin]++;
            confidence[bin] += p[top];
            correct[bin] += top == label ? 1 : 0;
        }

        var error = 0.0;
        for (var b = 0; b < Bins; b++)
        {
            error += count[b] == 0 ? 0 : Math.Abs(correct[b] - confidence[b]) / rows.Count;
        }

        return error;
    }

    private static double[] Probabilities(double[] logits, float temperature)
    {
        var p = new double[logits.Length];
        for (var c = 0; c < p.Length; c++)
        {
            p[c] = logits[c] / temperature;
        }

        SoftmaxTrainer.Softmax(p, (1 << p.Length) - 1);
        return p;
    }

    /// <summary>
    /// A topic no set labels (billing) gets no weights from the data. It borrows general's weights, a little
    /// below general, so it wins exactly when the taxonomy's phrases vote for it and never by default.
    /// </summary>
    private static void GiveUntrainedTopicsGeneralWeights(float[] weights, int trainedMask)
    {
        const int classes = TrainedModel.TopicCount;
        for (var t = 0; t < classes; t++)
        {
            if ((trainedMask & (1 << t)) != 0)
            {
                continue;
            }

            for (var f = 0; f < FeatureLayout.Count; f++)
            {
                weights[(f * classes) + t] = weights[(f * classes) + Topic.General.BuiltInIndex];
            }

            weights[((FeatureLayout.HashedCount + FeatureLayout.Bias) * classes) + t] -= UntrainedTopicMargin;
        }
    }

    private static Dictionary<string, double> RowWeights(List<LabelledRow> rows, Func<LabelledRow, bool> counts) =>
        rows.Where(counts).GroupBy(r => r.Set, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => SetFactor(g.Key) * Math.Min(1, RowCap / g.Count()), StringComparer.Ordinal);

    /// <summary>
    /// Set weights times a partial class balance, sqrt(rows / (classes * rows of this class)) within each set:
    /// customers write far more mixed, neutral and topical messages than the data sets' mostly-general,
    /// rarely-mixed label distributions suggest, so rare classes count more without drowning the rest.
    /// </summary>
    private static Dictionary<(string Set, int Label), double> BalancedWeights(List<LabelledRow> rows, Func<LabelledRow, int> label, double power)
    {
        var setWeights = RowWeights(rows, r => label(r) >= 0);
        var weights = new Dictionary<(string, int), double>();
        foreach (var set in rows.Where(r => label(r) >= 0).GroupBy(r => r.Set, StringComparer.Ordinal))
        {
            var byClass = set.GroupBy(label).ToList();
            var total = set.Count();
            foreach (var group in byClass)
            {
                weights[(set.Key, group.Key)] = setWeights[set.Key] * Math.Pow(total / ((double)byClass.Count * group.Count()), power);
            }
        }

        return weights;
    }

    private static Dictionary<string, int> Masks(List<LabelledRow> rows, Func<LabelledRow, int> label) =>
        rows.Select(r => (r.Set, Label: label(r))).Where(x => x.Label >= 0)
            .GroupBy(x => x.Set, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Aggregate(0, (mask, x) => mask | (1 << x.Label)), StringComparer.Ordinal);

    private static byte[] Serialize(TrainedModel model)
    {
        using var stream = new MemoryStream();
        model.Write(stream);
        return stream.ToArray();
    }

    private static TrainedModel RoundTrip(TrainedModel model)
    {
        using var stream = new MemoryStream(Serialize(model));
        return TrainedModel.Read(stream);
    }

    private void Note(string line)
    {
        var stamped = string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:0.0}s] {line}");
        report.Add(line);
        log?.WriteLine(stamped);
    }
}
