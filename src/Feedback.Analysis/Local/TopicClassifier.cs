using System.Text.Json;

namespace Feedback.Analysis.Local;

internal readonly record struct TopicMatch(Topic Topic, string Phrase, double Weight);

internal sealed record TopicDecision(Topic Topic, double Probability, IReadOnlyList<TopicMatch> Matches);

/// <summary>Scores the topics by weighted phrase matches from topics.json; immutable, shared by all threads.</summary>
internal sealed class TopicClassifier
{
    private static readonly Lazy<TopicClassifier> Embedded = new(LoadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);
    /// <summary>Scales weights inside the softmax so topic probabilities track accuracy (fitted on public app-review sets).</summary>
    private const double Sharpness = 2.0;

    private static readonly Topic[] Scored = [Topic.Bug, Topic.FeatureRequest, Topic.Billing, Topic.Performance, Topic.Ux];

    private static readonly int TopicCount = Topic.BuiltIn.Count;

    private readonly PhraseTable<(Topic Topic, double Weight)> phrases;
    private readonly Topic[] tieOrder;
    private readonly double generalWeight;

    public TopicClassifier(IEnumerable<KeyValuePair<string, (Topic Topic, double Weight)>> phrases, IReadOnlyList<Topic> tieOrder, double generalWeight)
    {
        this.phrases = new PhraseTable<(Topic, double)>(phrases);
        this.tieOrder = [.. tieOrder, .. Scored.Except(tieOrder)];
        this.generalWeight = generalWeight;
    }

    public static TopicClassifier Default => Embedded.Value;

    public TopicDecision Classify(TokenizedText text)
    {
        Span<double> scores = stackalloc double[TopicCount];
        // Most messages match no phrase: the list is made at the first match.
        List<TopicMatch>? matches = null;
        var i = 0;
        while (i < text.Count)
        {
            if (text.Key(i).Length > 0 && phrases.TryMatch(text, i, out var match))
            {
                var (topic, weight) = match.Value;
                scores[topic.BuiltInIndex] += weight;
                (matches ??= []).Add(new TopicMatch(topic, match.Text, weight));
                i += match.Length;
            }
            else
            {
                i++;
            }
        }

        scores[Topic.General.BuiltInIndex] = generalWeight;
        var best = Topic.General;
        foreach (var topic in tieOrder)
        {
            // Strictly greater: a topic must beat the general baseline, and an earlier topic keeps a tie.
            if (scores[topic.BuiltInIndex] > scores[best.BuiltInIndex])
            {
                best = topic;
            }
        }

        // Softmax over the weights: one weak cue gives a hesitant topic, several agreeing cues a confident one.
        var max = scores[best.BuiltInIndex];
        var sum = 0.0;
        foreach (var score in scores)
        {
            sum += Math.Exp(Sharpness * (score - max));
        }

        matches?.Sort((a, b) => b.Weight.CompareTo(a.Weight));
        return new TopicDecision(best, 1 / sum, matches is null ? [] : matches);
    }

    private static TopicClassifier LoadEmbedded()
    {
        using var json = EmbeddedData.Json("topics.json");
        var root = json.RootElement;
        var entries = new List<KeyValuePair<string, (Topic, double)>>();
        foreach (var topic in root.GetProperty("topics").EnumerateObject())
        {
            var value = ParseTopic(topic.Name);
            entries.AddRange(topic.Value.EnumerateObject().Select(p => new KeyValuePair<string, (Topic, double)>(p.Name, (value, p.Value.GetDouble()))));
        }

        var order = root.GetProperty("tie_order").EnumerateArray().Select(e => ParseTopic(e.GetString())).ToArray();
        return new TopicClassifier(entries, order, root.GetProperty("general_weight").GetDouble());
    }

    private static Topic ParseTopic(string? name) =>
        Topic.TryParseBuiltIn(name, out var topic) ? topic : throw new JsonException($"Unknown topic '{name}' in topics.json.");
}
