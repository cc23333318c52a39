using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Local;
using Feedback.Cli.Store;

namespace Feedback.Cli;

/// <summary>The local classifier the CLI's commands use: the deep one unless <c>--classifier fast</c> or <c>CLASSIFIER=fast</c>.</summary>
internal static class LocalClassifiers
{
    public const string Usage = "--classifier is deep (the sentence encoder and trained heads, the default) or fast (the lexical model alone).";

    /// <summary>
    /// Whether <paramref name="given"/> (or, without one, the CLASSIFIER setting, from the environment or .env as the
    /// server reads it) names the deep classifier; false when the name is neither.
    /// </summary>
    public static bool TryChoose(string? given, out bool deep) =>
        ClassifierChoice.TryParse(given ?? CliStore.Settings().Classifier, out deep);

    /// <param name="encoder">The encoder's settings (default: every core on each batch, buffers given back after it).</param>
    public static Analyzer Create(bool deep, ClassificationCache cache, bool explain, EncoderOptions? encoder = null)
    {
        var lexical = new LocalClassifier();
        if (!deep)
        {
            return new Analyzer(lexical, cache, taxonomy: DeepHeads.Default.Taxonomy) { Explain = explain };
        }

        var classifier = new DeepClassifier(lexical, SharedEncoders.Get(encoder ?? new EncoderOptions()), DeepHeads.Default);
        return new Analyzer(lexical, cache, deep: new DeepTier(classifier, new DeepTierOptions(TimeSpan.FromSeconds(30)))) { Explain = explain };
    }
}
