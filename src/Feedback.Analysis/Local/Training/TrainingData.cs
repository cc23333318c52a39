using Feedback.Analysis.Evaluation;

namespace Feedback.Analysis.Local.Training;

/// <summary>One labelled row of a shared data set; either label may be missing.</summary>
internal sealed record LabelledRow(string Set, string Text, Sentiment? Sentiment, Topic? Topic)
{
    public bool IsHeldOut { get; } = DataSplit.IsHeldOut(Text);
}

/// <summary>Reads every <c>&lt;set&gt;/data.csv</c> under a data directory, in ordinal order of the set names.</summary>
internal static class TrainingData
{
    public static List<LabelledRow> Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"No data directory at {directory} (pass --data DIR).");
        }

        var rows = new List<LabelledRow>();
        foreach (var setDirectory in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(setDirectory, "data.csv");
            if (File.Exists(path))
            {
                rows.AddRange(Read(Path.GetFileName(setDirectory), path));
            }
        }

        return rows;
    }

    private static IEnumerable<LabelledRow> Read(string set, string path)
    {
        using var reader = File.OpenText(path);
        using var records = CsvReader.ReadRecords(reader).GetEnumerator();
        if (!records.MoveNext())
        {
            yield break;
        }

        var header = records.Current;
        int text = Array.IndexOf(header, "text"), label = Array.IndexOf(header, "label"), topic = Array.IndexOf(header, "topic");
        if (text < 0)
        {
            throw new InvalidDataException($"{path}: the header has no 'text' column.");
        }

        while (records.MoveNext())
        {
            var record = records.Current;
            var body = Cell(record, text);
            Sentiment? sentiment = WireNames.TryParseSentiment(Cell(record, label), out var s) ? s : null;
            Topic? topicLabel = Topic.TryParseBuiltIn(Cell(record, topic), out var t) ? t : null;
            if (body.Length > 0 && (sentiment is not null || topicLabel is not null))
            {
                yield return new LabelledRow(set, body, sentiment, topicLabel);
            }
        }
    }

    private static string Cell(string[] record, int column) =>
        column >= 0 && column < record.Length ? record[column].Trim() : "";
}
