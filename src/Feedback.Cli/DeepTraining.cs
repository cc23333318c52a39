using System.Text;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
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

    /// <summary>
    /// Bump when the heads, their inputs or their training data change what any text is classified as. A taxonomy other
    /// than the contract's six adds its fingerprint (<c>deep-2+1a2b3c4d</c>), so answers cached under other topics are
    /// not served for it.
    /// </summary>
    public const string Version = "deep-2";

    /// <summary>
    /// Shared rows per set that join the in-domain rows (none), and what one would weigh against a hand-written one.
    /// Held-out measurement (bench/RESULTS.md, "Notes: session 9") says they hurt product feedback: even 300 a set at
    /// weight 0.3 teach that a plain failure report ("The app keeps crashing when I try to checkout!") is neutral, as
    /// tweets and developer comments label such text. What they teach reaches the heads through the lexical model's
    /// answers, which are inputs.
    /// </summary>
    public const int SharedPerSet = 0;

    public const double SharedWeight = 0.3;

    public static DeepHeads Train(LocalClassifier lexical, IReadOnlyList<LabelledRow> shared, string inDomainPath, Taxonomy taxonomy, int sharedPerSet, double sharedWeight, TextWriter log)
    {
        var inDomain = ProductFeedbackSet.Load(inDomainPath);
        var cache = new EmbeddingCache(CachePath);
        // The encoder loads only if some text is not in the cache; `--check` then uses the same one.
        var trainer = new DeepTrainer(lexical, () => SharedEncoders.Get(new EncoderOptions()).Value, cache, log);
        var version = taxonomy.IsBuiltIn ? Version : $"{Version}+{taxonomy.Fingerprint()}";
        return trainer.Train(inDomain, shared, new DeepTrainingOptions(version, taxonomy, sharedPerSet, sharedWeight));
    }

    /// <summary>The held-out figures the targets name, for a heads candidate (development, --check).</summary>
    public static string Check(DeepClassifier classifier, string inDomainPath, string dataDirectory, string fixtureDirectory)
    {
        var text = new StringBuilder();
        var rows = ProductFeedbackSet.Load(inDomainPath).Where(r => r.IsHeldOut).ToList();
        var primed = new PrimedClassifier(classifier);
        primed.Prime([.. rows.Select(r => r.Text), .. TrainingData.Load(dataDirectory).Where(r => r.IsHeldOut).Select(r => r.Text)]);
        AccuracyReport.InDomain(text, rows, [("deep", primed)]);
        text.Append(AccuracyReport.Headline(dataDirectory, fixtureDirectory, primed, new HashSet<string>(StringComparer.Ordinal), listErrors: false));
        return text.ToString();
    }
}
