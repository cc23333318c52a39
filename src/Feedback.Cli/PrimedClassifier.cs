using System.Collections.Concurrent;
using Feedback.Analysis;
using Feedback.Analysis.Deep;

namespace Feedback.Cli;

/// <summary>
/// The deep classifier with the texts a report will ask about encoded up front, in batches: several times faster
/// than one at a time, and the same answers (a text is classified once and remembered).
/// </summary>
internal sealed class PrimedClassifier(DeepClassifier deep) : ILocalClassifier
{
    private readonly ConcurrentDictionary<string, Classification> answers = new(StringComparer.Ordinal);

    public string Version => deep.Version;

    public void Prime(IEnumerable<string> texts)
    {
        var missing = texts.Where(t => !answers.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToArray();
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
