using System.Collections.Concurrent;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;

namespace Feedback.Cli;

/// <summary>
/// The deep classifier with the texts a report will ask about encoded up front, in batches: several times faster
/// than one at a time, and the same answers (a text is classified once and remembered).
/// </summary>
internal sealed class PrimedClassifier(DeepClassifier deep) : ILocalClassifier
{
    private readonly ConcurrentDictionary<string, Classification> answers = new(StringComparer.Ordinal);

    public string Version => deep.Version;

    /// <param name="cache">
    /// Sentence vectors kept between runs (<c>train --check</c>, which scores the same held-out texts after every change of
    /// the heads): those vectors are rounded as the training's are, so figures can differ from <c>eval-all</c>'s in the
    /// third decimal; null encodes every text.
    /// </param>
    public void Prime(IEnumerable<string> texts, EmbeddingCache? cache = null)
    {
        var missing = texts.Where(t => !answers.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToArray();
        if (cache is not null)
        {
            var vectors = cache.Get(missing, () => deep.Encoder);
            cache.Save();
            Parallel.For(0, missing.Length, i =>
                answers[missing[i]] = deep.Combine(missing[i], deep.Lexical.ClassifyWithoutReasons(missing[i]), vectors[i], explain: false));
            return;
        }

        foreach (var chunk in missing.Chunk(1024))
        {
            var classified = deep.ClassifyMany(chunk, explain: false);
            for (var i = 0; i < chunk.Length; i++)
            {
                answers[chunk[i]] = classified[i];
            }
        }
    }

    public Classification Classify(string text) => answers.GetOrAdd(text, t => deep.ClassifyWithoutReasons(t));
}
