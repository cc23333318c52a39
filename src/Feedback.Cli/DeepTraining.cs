using System.Globalization;
using System.Text;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Training;

namespace Feedback.Cli;

/// <summary>The classifier-v2 half of <c>./run.sh train</c>: the heads over the encoder and the lexical model.</summary>
internal static class DeepTraining
{
    /// <summary>Where the shipped heads live, relative to the repository root (run.sh runs from there).</summary>
    public const string ModelPath = "src/Feedback.Analysis/Deep/deep.model";

    /// <summary>Sentence vectors of the training texts, so a retrain encodes only new ones (not committed).</summary>
    public const string CachePath = ".build/cache/all-MiniLM-L6-v2.128.vectors";

    /// <summary>Bump when the heads, their inputs or their training data change what any text is classified as.</summary>
    public const string Version = "deep-1";

    /// <summary>
    /// Shared rows per set that join the in-domain rows. Held-out measurement (bench/ACCURACY.md, "Classifier v2")
    /// chose it: the in-domain figures do not move, the public sets' improve.
    /// </summary>
    public const int SharedPerSet = 300;

    public static DeepHeads Train(LocalClassifier lexical, IReadOnlyList<LabelledRow> shared, string inDomainPath, int sharedPerSet, TextWriter log)
    {
        var inDomain = ProductFeedbackSet.Load(inDomainPath);
        var cache = new EmbeddingCache(CachePath);
        using var encoder = new EncoderHolder();
        var trainer = new DeepTrainer(lexical, encoder.Get, cache, log);
        return trainer.Train(inDomain, shared, new DeepTrainingOptions(Version, sharedPerSet));
    }

    /// <summary>The held-out figures the targets name, for a heads candidate (development, --check).</summary>
    public static string Check(DeepClassifier classifier, string inDomainPath, string fixtureDirectory)
    {
        var text = new StringBuilder();
        var rows = ProductFeedbackSet.Load(inDomainPath).Where(r => r.IsHeldOut).ToList();
        var answers = classifier.ClassifyMany([.. rows.Select(r => TextRules.Normalise(r.Text))], explain: false);
        Append(text, "in-domain held-out", rows, answers);
        Append(text, "in-domain held-out, not English", [.. rows.Where(r => r.Language != "en")], [.. answers.Where((_, i) => rows[i].Language != "en")]);
        foreach (var fixture in Directory.GetFiles(fixtureDirectory, "*.csv").Order(StringComparer.Ordinal))
        {
            using var reader = File.OpenText(fixture);
            var report = Evaluator.Evaluate(reader, t => classifier.Classify(TextRules.Normalise(t)));
            text.Append(CultureInfo.InvariantCulture, $"{Path.GetFileName(fixture)}: sentiment {report.Sentiment?.Accuracy:0.000}, topic macro-F1 {report.Topic?.MacroF1:0.000}, alert F1 (negative or mixed) {report.Alert?.F1:0.000}\n");
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string name, List<FeedbackExample> rows, Classification[] answers)
    {
        var sentiments = rows.Select((r, i) => new Evaluator.Outcome<Sentiment>(r.Sentiment, answers[i].Sentiment, answers[i].Confidence)).ToList();
        var topics = rows.Select((r, i) => new Evaluator.Outcome<Topic>(r.Topic, answers[i].Topic, answers[i].TopicConfidence)).ToList();
        var alerts = Evaluator.Alerts([.. rows.Select((r, i) => (r.Action, Evaluator.IsAlert(answers[i].Sentiment, answers[i].Confidence)))]);
        var s = Evaluator.Score(sentiments, WireNames.Of);
        var t = Evaluator.Score(topics, WireNames.Of);
        var high = sentiments.Where(o => o.Confidence > 0.8).ToList();
        text.Append(CultureInfo.InvariantCulture, $"{name} ({rows.Count} rows): sentiment {s.Accuracy:0.000} (ECE {s.Ece:0.000}), topic macro-F1 {t.MacroF1:0.000} (ECE {t.Ece:0.000}), alert F1 {alerts.F1:0.000} (P {alerts.Precision:0.000}, R {alerts.Recall:0.000}), high right {(high.Count == 0 ? 0 : (double)high.Count(o => o.Truth == o.Predicted) / high.Count):0.000} of {high.Count}\n");
    }

    /// <summary>Loads the encoder only if some text is not in the cache, and disposes it after.</summary>
    private sealed class EncoderHolder : IDisposable
    {
        private SentenceEncoder? encoder;

        public SentenceEncoder Get() => encoder ??= SentenceEncoder.Load();

        public void Dispose() => encoder?.Dispose();
    }
}
