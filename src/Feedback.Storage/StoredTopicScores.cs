using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Analysis;

namespace Feedback.Storage;

/// <summary>
/// An answer's <c>topics</c> (a score for each configured topic, summing to 1) as stored in feedback.topic_scores: a JSON
/// object in the taxonomy's order, four decimals a score.
/// </summary>
internal static class StoredTopicScores
{
    public static string Of(Classification classification, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(classification);
        ArgumentNullException.ThrowIfNull(taxonomy);
        // An answer with no scores (the LLM's, a message too short to read) puts everything on its topic.
        var values = (classification.TopicScores ?? TopicScores.OnlyOn(classification.Topic, taxonomy)).Over(taxonomy);
        var json = new StringBuilder("{");
        for (var i = 0; i < values.Length; i++)
        {
            json.Append(i == 0 ? "\"" : ",\"").Append(taxonomy.Topics[i].Name).Append("\":")
                .Append(Math.Round(values[i], 4).ToString("0.####", CultureInfo.InvariantCulture));
        }

        return json.Append('}').ToString();
    }

    /// <summary>Whether two stored score objects name the same topics in the same order (a row stored before scores names none).</summary>
    public static bool SameTopics(string? a, string? b) =>
        a is not null && b is not null && Read(a, "").Keys.SequenceEqual(Read(b, "").Keys, StringComparer.Ordinal);

    /// <summary>The stored scores; a message stored before topics had scores reads as all of it on its topic.</summary>
    public static IReadOnlyDictionary<string, double> Read(string? json, string topic)
    {
        if (string.IsNullOrEmpty(json))
        {
            return new Dictionary<string, double>(StringComparer.Ordinal) { [topic] = 1 };
        }

        // Dictionary keeps the insertion order when nothing is removed, so the topics come out in the taxonomy's order.
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal);
    }
}
