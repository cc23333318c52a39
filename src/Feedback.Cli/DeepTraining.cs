using System.Text;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Training;
using Feedback.Cli.Store;

namespace Feedback.Cli;

/// <summary>The classifier-v2 half of <c>./run.sh train</c>: the heads over the encoder and the lexical model.</summary>
internal static class DeepTraining
{
    /// <summary>Where the shipped heads live, relative to the repository root (run.sh runs from there).</summary>
    public const string ModelPath = "src/Feedback.Analysis/Deep/deep.model";

    /// <summary>Sentence vectors of the training texts, so a retrain encodes only new ones (not committed).</summary>
    public const string CachePath = ".build/cache/all-MiniLM-L6-v2.128.vectors";

    /// <summary>
    /// Bump when the heads, their inputs or their training data change what any text is classified as. A taxonomy file
    /// other than the shipped one adds its fingerprint (<c>deep-6+t1a2b3c4d</c>), corrections theirs
    /// (<c>deep-6+labels5e6f7a8b</c>), so answers cached for other heads are not served for these. deep-4: the action
    /// head, which the default alert rule reads. deep-5: the same heads retrained after an audit of 100 random training
    /// rows corrected the one label that contradicted the written rules (heads file FBD5, no hidden units). deep-6: the
    /// same heads retrained after three blind readings of every row set the `action` labels to what the written rules say
    /// (training/data/product_feedback_v2.readings.csv).
    /// </summary>
    public const string Version = "deep-6";

    /// <summary>
    /// Shared rows per set that join the in-domain rows, and what one weighs against a hand-written one. At 300 a set and
    /// weight 0.3 they hurt product feedback (bench/RESULTS.md, "Notes: session 9": they teach that a plain failure report
    /// is neutral, as tweets and developer comments label such text); since the n-gram model, 200 a set at weight 0.1
    /// help every held-out figure but topic (session 12: sentiment 0.827 -> 0.839, public binary average 0.816 -> 0.845,
    /// TweetEval 0.527 -> 0.588, alert F1 0.798 -> 0.800, topic macro-F1 0.901 -> 0.897). They label no action: the action
    /// head learns from the in-domain rows alone.
    /// </summary>
    public const int SharedPerSet = 200;

    public const double SharedWeight = 0.1;

    /// <summary>The labelled test sets (the held-out fixture among them): never trained on, corrections included.</summary>
    public const string FixtureDirectory = "tests/Feedback.Analysis.Tests/Fixtures";

    /// <param name="corrections">Messages people labelled in the store (<c>--with-corrections</c>), or null to train without them.</param>
    public static DeepHeads Train(
        LocalClassifier lexical, IReadOnlyList<LabelledRow> shared, string inDomainPath, Taxonomy taxonomy, int sharedPerSet, double sharedWeight,
        IReadOnlyList<CorrectionRow>? corrections, TextWriter log)
    {
        var inDomain = ProductFeedbackSet.Load(inDomainPath);
        List<CorrectionExample>? extra = null;
        if (corrections is not null)
        {
            var heldOut = inDomain.Where(r => r.IsHeldOut).Select(r => r.Text)
                .Concat(shared.Where(r => r.IsHeldOut).Select(r => r.Text))
                .Concat(FixtureTexts(FixtureDirectory));
            (extra, var left) = CorrectionExample.ForTraining(corrections.Select(c => (c.Text, c.Sentiment, c.Topic)), heldOut);
            log.WriteLine(
                $"corrections: {extra.Count:N0} labelled messages join the in-domain rows at weight {CorrectionExample.DefaultWeight}; " +
                $"{left:N0} left out because their text is a held-out row");
        }

        var cache = new EmbeddingCache(CachePath);
        // The encoder loads only if some text is not in the cache; `--check` then uses the same one.
        var trainer = new DeepTrainer(lexical, () => SharedEncoders.Get(new EncoderOptions()).Value, cache, log);
        var suffix = new List<string>();
        if (taxonomy.Fingerprint() != Taxonomy.ShippedFingerprint)
        {
            suffix.Add("t" + taxonomy.Fingerprint());
        }

        if (extra is { Count: > 0 })
        {
            suffix.Add("labels" + CorrectionsFingerprint(extra));
        }

        var version = suffix.Count == 0 ? Version : $"{Version}+{string.Join('.', suffix)}";
        var heads = trainer.Train(inDomain, shared, new DeepTrainingOptions(version, taxonomy, sharedPerSet, sharedWeight), extra);
        log.Write(ActionCurve("action head", trainer.ActionOutOfFold));
        log.Write(ActionCurve("sentiment rule, P(negative or mixed)", trainer.SentimentRuleOutOfFold));
        return heads;
    }

    /// <summary>
    /// The action head's precision–recall curve on its out-of-fold answers for the training rows: where the alert
    /// sensitivities' action thresholds are read off (AlertRule, docs/alerts.md), never from held-out rows.
    /// </summary>
    public static string ActionCurve(string name, IReadOnlyList<(double Probability, bool Action, bool English)> outOfFold)
    {
        var text = new StringBuilder();
        var positives = outOfFold.Count(r => r.Action);
        text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{name}, out-of-fold on {outOfFold.Count:N0} training rows ({positives:N0} need a person):");
        text.AppendLine("threshold  precision  recall  F1     alerts  not English: recall  F1");
        var foreign = outOfFold.Where(r => !r.English).ToList();
        for (var step = 1; step < 20; step++)
        {
            var threshold = step * 0.05;
            var alerts = outOfFold.Count(r => r.Probability >= threshold);
            var right = outOfFold.Count(r => r.Probability >= threshold && r.Action);
            var precision = alerts == 0 ? 0 : (double)right / alerts;
            var recall = positives == 0 ? 0 : (double)right / positives;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            var (foreignRecall, foreignF1) = Scores(foreign, threshold);
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{threshold,9:0.00}  {precision,9:0.000}  {recall,6:0.000}  {f1:0.000}  {alerts,6:N0}  {foreignRecall,19:0.000}  {foreignF1:0.000}");
        }

        return text.ToString();
    }

    private static (double Recall, double F1) Scores(List<(double Probability, bool Action, bool English)> rows, double threshold)
    {
        var alerts = rows.Count(r => r.Probability >= threshold);
        var right = rows.Count(r => r.Probability >= threshold && r.Action);
        var positives = rows.Count(r => r.Action);
        var precision = alerts == 0 ? 0 : (double)right / alerts;
        var recall = positives == 0 ? 0 : (double)right / positives;
        return (recall, precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
    }

    private static string CorrectionsFingerprint(List<CorrectionExample> corrections) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', corrections.Select(c => $"{c.Text}\t{c.Sentiment}\t{c.Topic}")))))[..8];

    /// <summary>The text column of every labelled CSV in <paramref name="directory"/> (comment lines first, then a header).</summary>
    private static IEnumerable<string> FixtureTexts(string directory)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        foreach (var path in Directory.GetFiles(directory, "*.csv").Order(StringComparer.Ordinal))
        {
            using var reader = File.OpenText(path);
            while (reader.Peek() == '#')
            {
                _ = reader.ReadLine();
            }

            using var records = CsvReader.ReadRecords(reader).GetEnumerator();
            if (!records.MoveNext() || Array.IndexOf(records.Current, "text") is not (var column and >= 0))
            {
                continue;
            }

            while (records.MoveNext())
            {
                if (column < records.Current.Length)
                {
                    yield return records.Current[column];
                }
            }
        }
    }

    /// <summary>The held-out figures the targets name, for a heads candidate (development, --check).</summary>
    public static string Check(DeepClassifier classifier, string inDomainPath, string dataDirectory, string fixtureDirectory)
    {
        var text = new StringBuilder();
        var rows = ProductFeedbackSet.Load(inDomainPath).Where(r => r.IsHeldOut).ToList();
        var primed = new PrimedClassifier(classifier);
        primed.Prime([.. rows.Select(r => r.Text), .. TrainingData.Load(dataDirectory).Where(r => r.IsHeldOut).Select(r => r.Text)], new EmbeddingCache(CachePath));
        AccuracyReport.InDomain(text, rows, [("deep", primed)]);
        text.Append(AccuracyReport.Headline(dataDirectory, fixtureDirectory, primed, new HashSet<string>(StringComparer.Ordinal), listErrors: false));
        return text.ToString();
    }
}
