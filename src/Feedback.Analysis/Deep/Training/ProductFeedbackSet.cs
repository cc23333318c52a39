using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local.Training;

namespace Feedback.Analysis.Deep.Training;

/// <summary>One hand-written, labelled product-feedback message (training/data/product_feedback_v2.csv).</summary>
/// <param name="Action">A person at the company must act on it: what an alert should catch.</param>
internal sealed record FeedbackExample(string Text, Sentiment Sentiment, Topic Topic, bool Action, string Channel, string Language)
{
    /// <summary>The same 20 % hash split as the shared sets: never trained on, scored in bench/ACCURACY.md.</summary>
    public bool IsHeldOut { get; } = DataSplit.IsHeldOut(Text);
}

/// <summary>Reads the project's labelled product feedback: comment lines (#) first, then a CSV with a header.</summary>
internal static class ProductFeedbackSet
{
    public const string DefaultPath = "training/data/product_feedback_v2.csv";

    public static List<FeedbackExample> Load(string path)
    {
        using var reader = File.OpenText(path);
        while (reader.Peek() == '#')
        {
            _ = reader.ReadLine();
        }

        using var records = CsvReader.ReadRecords(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            throw new InvalidDataException($"{path}: no header");
        }

        var header = records.Current;
        int Column(string name) => Array.IndexOf(header, name) is var at and >= 0 ? at : throw new InvalidDataException($"{path}: the header has no '{name}' column");
        int text = Column("text"), sentiment = Column("sentiment"), topic = Column("topic"), action = Column("action");
        int channel = Array.IndexOf(header, "channel"), language = Array.IndexOf(header, "language");
        var rows = new List<FeedbackExample>();
        var line = 1;
        while (records.MoveNext())
        {
            line++;
            var r = records.Current;
            if (!WireNames.TryParseSentiment(r[sentiment], out var s) || !Topic.TryParse(r[topic], out var t) || r[action] is not ("yes" or "no"))
            {
                throw new InvalidDataException($"{path}: record {line} has a label outside the contract's ({r[sentiment]}, {r[topic]}, {r[action]})");
            }

            rows.Add(new FeedbackExample(r[text], s, t, r[action] == "yes", channel >= 0 ? r[channel] : "", language >= 0 ? r[language] : ""));
        }

        return rows;
    }
}
