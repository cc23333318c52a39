namespace Feedback.Analysis.Evaluation;

/// <summary>Classifies every row of a labelled CSV and scores the answers against the labels.</summary>
internal static class Evaluator
{
    private const int CalibrationBins = 10;

    /// <param name="csvPath">A CSV with a header holding <c>text</c> and optionally <c>label</c> and <c>topic</c>.</param>
    /// <param name="include">Which rows to score, by text (for example the held-out split); null scores every row.</param>
    /// <param name="taxonomy">The classifier's topics: a label naming a built-in topic counts as the topic that includes it.</param>
    /// <param name="delimiter">The CSV's delimiter; null: detected from the header.</param>
    public static EvaluationReport Evaluate(string csvPath, ILocalClassifier classifier, Func<string, bool>? include = null, Taxonomy? taxonomy = null, char? delimiter = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        using var reader = File.OpenText(csvPath);
        return Evaluate(reader, classifier.Classify, include, taxonomy, delimiter);
    }

    public static EvaluationReport Evaluate(TextReader csv, Func<string, Classification> classify, Func<string, bool>? include = null, Taxonomy? taxonomy = null, char? delimiter = null)
    {
        using var records = CsvReader.ReadRecordsWithLines(csv, delimiter).GetEnumerator();
        // Lines before the header that start with '#' are comments (our hand-written fixtures say who wrote them).
        bool more;
        while ((more = records.MoveNext()) && records.Current.Fields.Length > 0 && records.Current.Fields[0].StartsWith('#'))
        {
        }

        if (!more)
        {
            throw new InvalidDataException("The CSV is empty; it needs a header with a 'text' column.");
        }

        var header = records.Current.Fields;
        var textColumn = Array.IndexOf(header, "text");
        if (textColumn < 0)
        {
            throw new InvalidDataException("The CSV header has no 'text' column.");
        }

        // The shared sets name the sentiment "label"; the project's own set names it "sentiment" and adds "action"
        // (a person must act), the truth the alert rule is scored against where it is given.
        var labelColumn = Array.IndexOf(header, "label") is var named and >= 0 ? named : Array.IndexOf(header, "sentiment");
        var topicColumn = Array.IndexOf(header, "topic");
        var actionColumn = Array.IndexOf(header, "action");
        var actions = new List<(bool Truth, bool Predicted)>();
        var alarming = new List<(bool Truth, bool Predicted)>();

        var sentiments = new List<Outcome<Sentiment>>();
        var topics = new List<Outcome<Topic>>();
        var rows = 0;
        var dataRow = 0;
        while (records.MoveNext())
        {
            var (record, line) = records.Current;
            dataRow++;
            var text = Cell(record, textColumn);
            if (include is not null && !include(text))
            {
                continue;
            }

            rows++;
            var result = classify(text);
            var alerted = AlertRule.Default.Alarms(result);
            var label = Cell(record, labelColumn);
            if (label.Length > 0)
            {
                var truth = WireNames.TryParseSentiment(label, out var s) ? s : throw BadLabel(dataRow, line, "label", label);
                sentiments.Add(new Outcome<Sentiment>(truth, result.Sentiment, result.Confidence));
                alarming.Add((AlertRule.AlarmingSentiments.Contains(truth), alerted));
            }

            var action = Cell(record, actionColumn);
            if (action.Length > 0)
            {
                actions.Add((action == "yes", alerted));
            }

            var topic = Cell(record, topicColumn);
            if (topic.Length > 0)
            {
                var truth = Topic.TryParse(topic, out var t) ? t : throw BadLabel(dataRow, line, "topic", topic);
                truth = taxonomy is null || taxonomy.Contains(truth) ? truth : taxonomy.FromBuiltIn(truth);
                topics.Add(new Outcome<Topic>(truth, result.Topic, result.TopicConfidence));
            }
        }

        return new EvaluationReport(
            rows,
            sentiments.Count == 0 ? null : Score(sentiments, WireNames.Of),
            topics.Count == 0 ? null : Score(topics, WireNames.Of),
            actions.Count > 0 ? Alerts(actions) : alarming.Count == 0 ? null : Alerts(alarming));
    }

    /// <summary>Per-class and overall figures; classes in <see cref="Sentiment"/> order, topics built-in ones first.</summary>
    internal static LabelMetrics Score<T>(IReadOnlyList<Outcome<T>> outcomes, Func<T, string> name)
        where T : struct
    {
        var known = typeof(T) == typeof(Topic) ? Topic.BuiltIn.Cast<T>() : typeof(T).IsEnum ? Enum.GetValues(typeof(T)).Cast<T>() : [];
        var classes = known.Concat(outcomes.SelectMany(o => new[] { o.Truth, o.Predicted }))
            .Distinct()
            .Where(c => outcomes.Any(o => o.Truth.Equals(c) || o.Predicted.Equals(c)))
            .ToList();
        var confusion = classes.ToDictionary(name, actual => (IReadOnlyDictionary<string, int>)classes.ToDictionary(name, predicted =>
            outcomes.Count(o => o.Truth.Equals(actual) && o.Predicted.Equals(predicted)), StringComparer.Ordinal), StringComparer.Ordinal);

        var perClass = new Dictionary<string, ClassMetrics>(StringComparer.Ordinal);
        foreach (var c in classes)
        {
            var truePositives = outcomes.Count(o => o.Truth.Equals(c) && o.Predicted.Equals(c));
            var predicted = outcomes.Count(o => o.Predicted.Equals(c));
            var support = outcomes.Count(o => o.Truth.Equals(c));
            var precision = Ratio(truePositives, predicted);
            var recall = Ratio(truePositives, support);
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[name(c)] = new ClassMetrics(precision, recall, f1, support);
        }

        var correct = outcomes.Count(o => o.Truth.Equals(o.Predicted));
        return new LabelMetrics(
            outcomes.Count,
            Ratio(correct, outcomes.Count),
            perClass.Values.Average(m => m.F1),
            perClass,
            confusion,
            ExpectedCalibrationError(outcomes));
    }

    /// <summary>Sum over equal-width confidence bins of |accuracy - mean confidence|, weighted by the bin's share of rows.</summary>
    internal static double? ExpectedCalibrationError<T>(IReadOnlyList<Outcome<T>> outcomes)
        where T : struct
    {
        var rated = outcomes.Where(o => o.Confidence.HasValue).ToList();
        if (rated.Count == 0)
        {
            return null;
        }

        var count = new int[CalibrationBins];
        var correct = new int[CalibrationBins];
        var confidence = new double[CalibrationBins];
        foreach (var o in rated)
        {
            var p = o.Confidence!.Value;
            var bin = Math.Min((int)(p * CalibrationBins), CalibrationBins - 1);
            count[bin]++;
            confidence[bin] += p;
            if (o.Truth.Equals(o.Predicted))
            {
                correct[bin]++;
            }
        }

        var error = 0.0;
        for (var b = 0; b < CalibrationBins; b++)
        {
            if (count[b] > 0)
            {
                error += Math.Abs(((double)correct[b] / count[b]) - (confidence[b] / count[b])) * count[b] / rated.Count;
            }
        }

        return error;
    }

    /// <summary>
    /// The alert rule's answers against the truth: the <c>action</c> label (a person must act), or without one the
    /// sentiment label (a negative or mixed message is one a person should see).
    /// </summary>
    internal static AlertMetrics Alerts(IReadOnlyList<(bool Truth, bool Predicted)> outcomes)
    {
        int truePositives = 0, falsePositives = 0, falseNegatives = 0;
        foreach (var (actual, predicted) in outcomes)
        {
            if (actual && predicted)
            {
                truePositives++;
            }
            else if (predicted)
            {
                falsePositives++;
            }
            else if (actual)
            {
                falseNegatives++;
            }
        }

        return new AlertMetrics(
            Ratio(truePositives, truePositives + falsePositives),
            Ratio(truePositives, truePositives + falseNegatives),
            truePositives,
            falsePositives,
            falseNegatives);
    }

    /// <summary>0 for an empty denominator, the usual convention for a class never predicted or never present.</summary>
    private static double Ratio(int numerator, int denominator) => denominator == 0 ? 0 : (double)numerator / denominator;

    private static string Cell(string[] record, int column) =>
        column >= 0 && column < record.Length ? record[column].Trim() : "";

    /// <summary>Names the data row (the record after the header) and the line it starts on, which differ once a quoted field spans lines.</summary>
    private static InvalidDataException BadLabel(int row, int line, string column, string value) =>
        new($"Data row {row} (line {line}): '{value}' is not a valid {column}.");

    internal readonly record struct Outcome<T>(T Truth, T Predicted, double? Confidence)
        where T : struct;
}
