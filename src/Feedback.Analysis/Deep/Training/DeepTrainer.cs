using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Training;

namespace Feedback.Analysis.Deep.Training;

/// <param name="Taxonomy">The topics to learn: the labelled rows' built-in topics count as the topics that include them, and each topic's examples join the rows.</param>
/// <param name="SharedPerSet">Training rows taken from each shared data set (0: none), the first by hash order.</param>
/// <param name="SharedWeight">What one shared row weighs against one hand-written in-domain row.</param>
/// <param name="NgramBits">The n-gram model's hash table has 2^NgramBits buckets.</param>
/// <param name="NgramAlpha">The n-gram model's add-alpha smoothing.</param>
/// <param name="SentimentHidden">Hidden units for the sentiment head (null: a logistic regression, <paramref name="Sentiment"/>).</param>
/// <param name="ActionHidden">Hidden units for the action head (null: a logistic regression, <paramref name="Action"/>).</param>
/// <param name="TopicBalance">
/// How far topics are evened out: each topic row weighs (rows per topic on average / rows of its topic) to this power, so
/// a topic defined by a dozen examples is not drowned by one with hundreds of labelled rows (1: fully even, 0: as counted).
/// </param>
internal sealed record DeepTrainingOptions(
    string Version,
    Taxonomy Taxonomy,
    int SharedPerSet = 0,
    double SharedWeight = 0.3,
    HeadSettings? Sentiment = null,
    HeadSettings? Topic = null,
    HeadSettings? Action = null,
    HiddenSettings? SentimentHidden = null,
    HiddenSettings? ActionHidden = null,
    int Folds = 5,
    double TopicBalance = 0.5,
    int NgramBits = DeepTrainingOptions.DefaultNgramBits,
    double NgramAlpha = DeepTrainingOptions.DefaultNgramAlpha)
{
    /// <summary>
    /// Chosen by 5-fold cross-validation on the training rows only (bench/RESULTS.md, "Notes: session 11"): 2^16 buckets
    /// did as well as 2^18 at a quarter of the size, and alpha 0.03-0.1 better than 0.01 or 1.
    /// </summary>
    public const int DefaultNgramBits = 16;

    public const double DefaultNgramAlpha = 0.05;

    /// <summary>The heads' L2 penalty, chosen by the same cross-validation (0.03 against 0.003, 0.01 and 0.1).</summary>
    public const double DefaultL2 = 0.03;

    /// <summary>
    /// The action head's, chosen by the best F1 of its out-of-fold answers on the training rows (bench/RESULTS.md, "Notes:
    /// session 12"): 0.795 at 0.3 against 0.790 at 0.03, 0.794 at 0.1 and 0.791 at 1.
    /// </summary>
    public const double DefaultActionL2 = 0.3;
}

/// <summary>
/// Trains the classifier-v2 heads: the in-domain rows' training split (and, where the options say so, a sample of the
/// shared sets), each read by the lexical model, embedded by the encoder and read by an n-gram model. The n-gram model
/// is stacked: each training row's n-gram inputs come from a model fitted on the other folds (one that has seen the row
/// would hand the heads answers far surer than it will ever be on new text), the shipped one from all rows. The
/// temperatures are fitted on
/// out-of-fold answers for the in-domain rows (each fold's heads never saw them), so they calibrate what the service
/// will meet; the held-out 20 % is left for the accuracy report. The taxonomy's examples train the topic head only; the
/// action head learns from the in-domain rows' <c>action</c> label alone (corrections and shared rows carry none).
/// </summary>
internal sealed class DeepTrainer(LocalClassifier lexical, Func<SentenceEncoder> encoder, EmbeddingCache cache, TextWriter? log = null)
{
    /// <param name="Action">1 when a person must act, 0 when not, -1 when the row does not say.</param>
    /// <param name="English">Labelled as English (or not labelled with a language): the training log reports the other rows apart.</param>
    private sealed record Row(string Text, int Sentiment, int Topic, int Action, double Weight, bool InDomain, bool English = true);

    /// <summary>
    /// The action head's out-of-fold probabilities (calibrated) with their labels, from the last <see cref="Train"/>: the
    /// points of its precision–recall curve the alert sensitivities are read off.
    /// </summary>
    public IReadOnlyList<(double Probability, bool Action, bool English)> ActionOutOfFold { get; private set; } = [];

    /// <summary>The sentiment head's out-of-fold accuracy on the in-domain training rows (all, and those not in English), from the last <see cref="Train"/>.</summary>
    public (double All, double NotEnglish) SentimentOutOfFold { get; private set; }

    /// <summary>The sentiment head's out-of-fold probability of negative or mixed for the same rows: the rule the action head replaces.</summary>
    public IReadOnlyList<(double Probability, bool Action, bool English)> SentimentRuleOutOfFold { get; private set; } = [];

    /// <param name="corrections">Messages people labelled in the service: in-domain rows at their own weight, calibrated with the rest.</param>
    public DeepHeads Train(
        IReadOnlyList<FeedbackExample> inDomain, IReadOnlyList<LabelledRow> shared, DeepTrainingOptions options, IReadOnlyList<CorrectionExample>? corrections = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var taxonomy = options.Taxonomy;
        int TopicOf(Topic topic) => taxonomy.IndexOf(taxonomy.Contains(topic) ? topic : taxonomy.FromBuiltIn(topic));
        var rows = new List<Row>();
        rows.AddRange(inDomain.Where(r => !r.IsHeldOut).Select(r => new Row(r.Text, (int)r.Sentiment, TopicOf(r.Topic), r.Action ? 1 : 0, 1, true, r.Language is "en" or "")));
        rows.AddRange(taxonomy.Definitions.SelectMany(d => d.Examples.Select(e => new Row(e, -1, taxonomy.IndexOf(d.Topic), -1, 1, false))));
        rows.AddRange((corrections ?? []).Select(c => new Row(c.Text, (int)c.Sentiment, TopicOf(c.Topic), -1, c.Weight, true)));
        if (options.SharedPerSet > 0)
        {
            foreach (var set in shared.Where(r => !r.IsHeldOut).GroupBy(r => r.Set, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                rows.AddRange(set
                    .OrderBy(r => DataSplit.Bucket(r.Text + "#sample")).ThenBy(r => r.Text, StringComparer.Ordinal)
                    .Take(options.SharedPerSet)
                    .Select(r => new Row(r.Text, r.Sentiment is { } s ? (int)s : -1, r.Topic is { } t ? TopicOf(t) : -1, -1, options.SharedWeight, false)));
            }
        }

        var topicWeight = TopicWeights(rows, taxonomy, options.TopicBalance);

        log?.WriteLine($"deep heads: {rows.Count(r => r.InDomain):N0} in-domain rows, {rows.Count(r => r.Sentiment < 0):N0} topic examples and {rows.Count(r => !r.InDomain && r.Sentiment >= 0):N0} shared rows; topics {string.Join(", ", taxonomy.Topics.Select((t, i) => $"{t} {rows.Count(r => r.Topic == i):N0}"))}");
        // As the service reads them: Analyzer hands classifiers the normalised text.
        var texts = rows.Select(r => TextRules.Normalise(r.Text)).ToArray();
        var vectors = cache.Get(texts, encoder, log);
        cache.Save();
        var lexicalReads = new (SentimentScores Scores, IReadOnlyList<double> Topics)[rows.Count];
        var features = new int[rows.Count][];
        Parallel.For(0, rows.Count, i =>
        {
            var read = lexical.ClassifyWithoutReasons(texts[i]);
            lexicalReads[i] = (read.Scores, DeepClassifier.TopicsOf(read));
            features[i] = NgramModel.Features(texts[i], options.NgramBits);
        });

        var fold = rows.Select(r => DataSplit.Bucket(r.Text) % options.Folds).ToArray();
        NgramModel FitNgrams(IEnumerable<int> on)
        {
            var chosen = on.ToArray();
            return new NgramModel(
                options.NgramBits,
                NgramModel.Fit([.. chosen.Select(i => (features[i], rows[i].Sentiment, rows[i].Weight))], DeepHeads.SentimentCount, options.NgramBits, options.NgramAlpha),
                NgramModel.Fit([.. chosen.Select(i => (features[i], rows[i].Topic, rows[i].Weight * topicWeight[Math.Max(rows[i].Topic, 0)]))], taxonomy.Topics.Count, options.NgramBits, options.NgramAlpha),
                NgramModel.Fit([.. chosen.Select(i => (features[i], rows[i].Action, rows[i].Weight))], DeepHeads.ActionCount, options.NgramBits, options.NgramAlpha));
        }

        var inputs = new double[rows.Count][];
        for (var f = 0; f < options.Folds; f++)
        {
            var others = FitNgrams(Enumerable.Range(0, rows.Count).Where(i => fold[i] != f));
            Parallel.For(0, rows.Count, i =>
            {
                if (fold[i] == f)
                {
                    var ngrams = (NgramModel.LogProbabilities(others.Sentiment, features[i]), NgramModel.LogProbabilities(others.Topic, features[i]), NgramModel.LogProbabilities(others.Action, features[i]));
                    inputs[i] = DeepHeads.Input(vectors[i], lexicalReads[i].Scores, lexicalReads[i].Topics, ngrams);
                }
            });
        }

        var ngramModel = FitNgrams(Enumerable.Range(0, rows.Count));
        log?.WriteLine($"inputs ready after {clock.Elapsed.TotalSeconds:0.0} s");
        var sentimentSettings = options.Sentiment ?? new HeadSettings(L2: DeepTrainingOptions.DefaultL2);
        var topicSettings = options.Topic ?? new HeadSettings(L2: DeepTrainingOptions.DefaultL2);
        var actionSettings = options.Action ?? new HeadSettings(L2: DeepTrainingOptions.DefaultActionL2);
        var sentimentUnits = options.SentimentHidden?.Units ?? 0;
        var actionUnits = options.ActionHidden?.Units ?? 0;
        float[] TrainSentiment(IEnumerable<int> on)
        {
            HeadRow[] chosen = [.. on.Select(i => new HeadRow(inputs[i], rows[i].Sentiment, rows[i].Weight))];
            return options.SentimentHidden is { } hidden
                ? HiddenHeadTrainer.Train(chosen, DeepHeads.SentimentCount, hidden)
                : HeadTrainer.Train(chosen, DeepHeads.SentimentCount, sentimentSettings);
        }

        float[] TrainAction(IEnumerable<int> on, double[][] actionInputs)
        {
            HeadRow[] chosen = [.. on.Select(i => new HeadRow(actionInputs[i], rows[i].Action, rows[i].Weight))];
            return options.ActionHidden is { } hidden
                ? HiddenHeadTrainer.Train(chosen, DeepHeads.ActionCount, hidden)
                : HeadTrainer.Train(chosen, DeepHeads.ActionCount, actionSettings);
        }

        // Out-of-fold logits of the in-domain rows, for the temperatures and the action head's stacked inputs.
        var sentimentLogits = new double[rows.Count][];
        var topicLogits = new double[rows.Count][];
        // A hidden-layer head trains in one thread (that is what keeps it bit for bit): the folds run side by side instead.
        var sentimentFolds = new float[options.Folds][];
        Parallel.For(0, options.Folds, new ParallelOptions { MaxDegreeOfParallelism = options.SentimentHidden is null ? 1 : 2 }, f =>
            sentimentFolds[f] = TrainSentiment(Enumerable.Range(0, rows.Count).Where(i => fold[i] != f)));
        for (var f = 0; f < options.Folds; f++)
        {
            var train = Enumerable.Range(0, rows.Count).Where(i => fold[i] != f).ToArray();
            var sentimentWeights = sentimentFolds[f];
            var topicWeights = HeadTrainer.Train([.. train.Select(i => new HeadRow(inputs[i], rows[i].Topic, rows[i].Weight * topicWeight[Math.Max(rows[i].Topic, 0)]))], taxonomy.Topics.Count, topicSettings);
            for (var i = 0; i < rows.Count; i++)
            {
                if (fold[i] != f || !rows[i].InDomain)
                {
                    continue;
                }

                sentimentLogits[i] = new double[DeepHeads.SentimentCount];
                DeepHeads.Logits(sentimentWeights, sentimentUnits, DeepHeads.SentimentCount, inputs[i], sentimentLogits[i]);
                topicLogits[i] = new double[taxonomy.Topics.Count];
                DeepHeads.Logits(topicWeights, taxonomy.Topics.Count, inputs[i], topicLogits[i]);
            }
        }

        var inDomainRows = Enumerable.Range(0, rows.Count).Where(i => rows[i].InDomain).ToArray();
        var sentimentTemperature = HeadTrainer.FitTemperature([.. inDomainRows.Select(i => (sentimentLogits[i], rows[i].Sentiment))]);
        var topicTemperature = HeadTrainer.FitTemperature([.. inDomainRows.Select(i => (topicLogits[i], rows[i].Topic))]);
        var labelledInDomain = inDomainRows.Where(i => rows[i].Action >= 0).ToArray();
        double SentimentAccuracy(IEnumerable<int> which) => which.DefaultIfEmpty(-1).Average(i => i < 0 ? 0 : Probabilities.Argmax(sentimentLogits[i]) == rows[i].Sentiment ? 1.0 : 0);
        SentimentOutOfFold = (SentimentAccuracy(labelledInDomain), SentimentAccuracy(labelledInDomain.Where(i => !rows[i].English)));
        log?.WriteLine($"sentiment head, out-of-fold accuracy on {labelledInDomain.Length:N0} training rows: {SentimentOutOfFold.All:0.000} (not English {SentimentOutOfFold.NotEnglish:0.000})");

        // The action head reads the other heads' answers; for its training rows those come from heads that did not see them.
        var acting = Enumerable.Range(0, rows.Count).Where(i => rows[i].Action >= 0).ToArray();
        var actionInputs = new double[rows.Count][];
        foreach (var i in acting)
        {
            var sentimentP = (double[])sentimentLogits[i].Clone();
            Probabilities.Softmax(sentimentP, sentimentTemperature);
            var topicP = (double[])topicLogits[i].Clone();
            Probabilities.Softmax(topicP, topicTemperature);
            actionInputs[i] = DeepHeads.ActionInput(inputs[i], sentimentP, topicP);
        }

        var actionHeldOut = new List<(double[], int)>();
        var actionEnglish = new List<bool>();
        var actionFolds = new float[options.Folds][];
        Parallel.For(0, options.Folds, new ParallelOptions { MaxDegreeOfParallelism = options.ActionHidden is null ? 1 : 2 }, f =>
            actionFolds[f] = TrainAction(acting.Where(i => fold[i] != f), actionInputs));
        for (var f = 0; f < options.Folds; f++)
        {
            var actionWeights = actionFolds[f];
            foreach (var i in acting.Where(i => fold[i] == f))
            {
                var a = new double[DeepHeads.ActionCount];
                DeepHeads.Logits(actionWeights, actionUnits, DeepHeads.ActionCount, actionInputs[i], a);
                actionHeldOut.Add((a, rows[i].Action));
                actionEnglish.Add(rows[i].English);
            }
        }

        var actionTemperature = HeadTrainer.FitTemperature(actionHeldOut);
        ActionOutOfFold = [.. actionHeldOut.Select((r, k) =>
        {
            var p = (double[])r.Item1.Clone();
            Probabilities.Softmax(p, actionTemperature);
            return (p[1], r.Item2 == 1, actionEnglish[k]);
        })];
        SentimentRuleOutOfFold = [.. acting.Select(i =>
        {
            var p = (double[])sentimentLogits[i].Clone();
            Probabilities.Softmax(p, sentimentTemperature);
            return (p[(int)Analysis.Sentiment.Negative] + p[(int)Analysis.Sentiment.Mixed], rows[i].Action == 1, rows[i].English);
        })];
        log?.WriteLine($"temperatures (out-of-fold, {inDomainRows.Length:N0} rows): sentiment {sentimentTemperature:0.00}, topic {topicTemperature:0.00}, action {actionTemperature:0.00}, after {clock.Elapsed.TotalSeconds:0.0} s");

        var all = Enumerable.Range(0, rows.Count).ToArray();
        return new DeepHeads(
            options.Version,
            taxonomy,
            ngramModel,
            TrainSentiment(all),
            HeadTrainer.Train([.. all.Select(i => new HeadRow(inputs[i], rows[i].Topic, rows[i].Weight * topicWeight[Math.Max(rows[i].Topic, 0)]))], taxonomy.Topics.Count, topicSettings),
            TrainAction(acting, actionInputs),
            sentimentTemperature,
            topicTemperature,
            actionTemperature,
            sentimentUnits,
            actionUnits);
    }

    private static double[] TopicWeights(List<Row> rows, Taxonomy taxonomy, double balance)
    {
        var count = new double[taxonomy.Topics.Count];
        foreach (var row in rows.Where(r => r.Topic >= 0))
        {
            count[row.Topic] += row.Weight;
        }

        if (count.Any(c => c == 0))
        {
            var missing = taxonomy.Topics.Where((_, i) => count[i] == 0);
            throw new InvalidDataException($"no labelled row or example for {string.Join(", ", missing)}: give each topic examples in the taxonomy file");
        }

        var mean = count.Average();
        return [.. count.Select(c => Math.Pow(mean / c, balance))];
    }
}
