using System.Text.Json;
using Feedback.Analysis.Evaluation;
using Shouldly;
using Xunit;

namespace Feedback.Analysis.Tests.Evaluation;

public sealed class EvaluatorTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("feedback-eval-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Answers are written into the text ("sentiment|topic|confidence") so the expected metrics can be worked out by hand.</summary>
    private sealed class ScriptedClassifier : ILocalClassifier
    {
        public string Version => "scripted";

        public Classification Classify(string text)
        {
            var parts = text.Split('|');
            WireNames.TryParseSentiment(parts[0], out var sentiment).ShouldBeTrue();
            Topic.TryParseBuiltIn(parts[1], out var topic).ShouldBeTrue();
            var confidence = double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            // The named sentiment gets the confidence, the other three share the rest (as an LLM's answer does).
            var rest = (1 - confidence) / 3;
            var scores = new SentimentScores(
                sentiment == Sentiment.Positive ? confidence : rest,
                sentiment == Sentiment.Negative ? confidence : rest,
                sentiment == Sentiment.Neutral ? confidence : rest,
                sentiment == Sentiment.Mixed ? confidence : rest);
            return new Classification(sentiment, topic, confidence, scores, "en", []) { TopicConfidence = confidence };
        }
    }

    private string Write(string content)
    {
        var path = Path.Combine(directory, "data.csv");
        File.WriteAllText(path, content);
        return path;
    }

    // truth:     pos pos neg neg mixed  neutral(unlabelled topic) + one unlabelled row
    // predicted: pos neg neg neg neg    neutral
    private const string Fixture =
        "text,label,topic,extra\n" +
        "positive|ux|0.9,positive,ux,a\n" +
        "\"negative|bug|0.7\",positive,bug,\"quoted, with comma\"\n" +
        "negative|bug|0.95,negative,bug,\"line\nbreak and \"\"quotes\"\"\"\n" +
        "negative|billing|0.4,negative,billing,\n" +
        "negative|general|0.6,mixed,general,\n" +
        "neutral|general|0.3,neutral,,\n" +
        "positive|general|0.99,,,unlabelled\n";

    [Fact]
    public void Accuracy_and_per_class_precision_recall_come_from_the_labelled_rows()
    {
        var report = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier());

        report.Rows.ShouldBe(7);
        var sentiment = report.Sentiment.ShouldNotBeNull();
        sentiment.Rows.ShouldBe(6);
        sentiment.Accuracy.ShouldBe(4.0 / 6, 1e-9);
        sentiment.PerClass["positive"].ShouldBe(new ClassMetrics(1, 0.5, 2.0 / 3, 2));
        sentiment.PerClass["negative"].Precision.ShouldBe(2.0 / 4, 1e-9);
        sentiment.PerClass["negative"].Recall.ShouldBe(1, 1e-9);
        sentiment.PerClass["mixed"].ShouldBe(new ClassMetrics(0, 0, 0, 1));
        sentiment.Confusion["mixed"]["negative"].ShouldBe(1);
        sentiment.Confusion["positive"]["negative"].ShouldBe(1);
    }

    [Fact]
    public void Macro_f1_averages_the_classes_seen_as_truth_or_prediction()
    {
        var sentiment = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).Sentiment.ShouldNotBeNull();

        // positive 2/3, negative 2/3 (P 0.5, R 1), neutral 1, mixed 0.
        sentiment.MacroF1.ShouldBe(((2.0 / 3) + (2.0 / 3) + 1 + 0) / 4, 1e-9);
    }

    [Fact]
    public void Expected_calibration_error_weights_each_confidence_bin_by_its_rows()
    {
        var sentiment = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).Sentiment.ShouldNotBeNull();

        // Bins: 0.9 right, 0.7 wrong, 0.95 right, 0.4 right, 0.6 wrong, 0.3 right; the 0.9 and 0.95 rows share bin 9.
        var expected = ((2 * Math.Abs(1 - 0.925)) + Math.Abs(0 - 0.7) + Math.Abs(1 - 0.4) + Math.Abs(0 - 0.6) + Math.Abs(1 - 0.3)) / 6;
        sentiment.Ece.ShouldNotBeNull().ShouldBe(expected, 1e-9);
    }

    [Fact]
    public void Alert_follows_the_default_rule_on_the_probability_of_negative_or_mixed()
    {
        var alert = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).Alert.ShouldNotBeNull();

        // Truth alerts: rows 3, 4, 5. P(negative or mixed): row 1 0.03, row 2 0.80, row 3 0.97, row 4 0.60, row 5 0.73,
        // row 6 (neutral 0.3) 0.47: rows 2 to 5 reach the balanced 0.50.
        alert.TruePositives.ShouldBe(3);
        alert.FalsePositives.ShouldBe(1);
        alert.FalseNegatives.ShouldBe(0);
        alert.Precision.ShouldBe(3.0 / 4, 1e-9);
        alert.Recall.ShouldBe(1, 1e-9);
    }

    [Fact]
    public void Topic_metrics_skip_rows_without_a_topic_and_are_absent_without_the_column()
    {
        var withTopic = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).Topic.ShouldNotBeNull();
        withTopic.Rows.ShouldBe(5);
        withTopic.Accuracy.ShouldBe(1, 1e-9);

        var withoutTopic = Evaluator.Evaluate(Write("label,text\npositive,positive|general|0.9\n"), new ScriptedClassifier());
        withoutTopic.Topic.ShouldBeNull();
        withoutTopic.Sentiment.ShouldNotBeNull().Accuracy.ShouldBe(1);
    }

    [Fact]
    public void Json_report_has_the_documented_snake_case_shape()
    {
        var json = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).ToJson();

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        root.GetProperty("rows").GetInt32().ShouldBe(7);
        var sentiment = root.GetProperty("sentiment");
        sentiment.GetProperty("macro_f1").GetDouble().ShouldBeGreaterThan(0);
        sentiment.GetProperty("per_class").GetProperty("negative").GetProperty("recall").GetDouble().ShouldBe(1);
        sentiment.GetProperty("confusion").GetProperty("mixed").GetProperty("negative").GetInt32().ShouldBe(1);
        sentiment.GetProperty("ece").ValueKind.ShouldBe(JsonValueKind.Number);
        root.GetProperty("topic").GetProperty("accuracy").GetDouble().ShouldBe(1);
        root.GetProperty("alert").GetProperty("precision").ValueKind.ShouldBe(JsonValueKind.Number);
    }

    [Fact]
    public void Json_report_of_a_file_without_topics_has_a_null_topic_section_as_the_eval_command_documents()
    {
        var json = Evaluator.Evaluate(Write("# comment lines before the header are skipped\ntext,label\npositive|general|0.9,positive\n"), new ScriptedClassifier()).ToJson();

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        root.GetProperty("rows").GetInt32().ShouldBe(1);
        root.GetProperty("sentiment").GetProperty("accuracy").GetDouble().ShouldBe(1);
        root.GetProperty("sentiment").GetProperty("macro_f1").GetDouble().ShouldBe(1);
        root.GetProperty("topic").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public void Only_the_rows_the_filter_includes_are_scored()
    {
        var report = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier(), text => text.StartsWith("negative", StringComparison.Ordinal));

        report.Rows.ShouldBe(4);
    }

    [Fact]
    public void Text_report_shows_accuracy_and_the_confusion_matrix()
    {
        var text = Evaluator.Evaluate(Write(Fixture), new ScriptedClassifier()).ToText();

        text.ShouldContain("accuracy 0.667");
        text.ShouldContain("confusion");
        text.ShouldContain("alert");
    }

    [Fact]
    public void An_unknown_label_is_reported_with_its_row()
    {
        var error = Should.Throw<InvalidDataException>(() => Evaluator.Evaluate(Write("text,label\nneutral|general|0.5,great\n"), new ScriptedClassifier()));

        error.Message.ShouldContain("row 1");
    }

    [Fact]
    public void An_unknown_label_names_its_row_and_the_line_a_quoted_line_break_moved_it_to()
    {
        var error = Should.Throw<InvalidDataException>(() => Evaluator.Evaluate(
            Write("text,label,note\nneutral|general|0.5,neutral,\"two\nlines\"\nneutral|general|0.5,great,x\n"), new ScriptedClassifier()));

        error.Message.ShouldContain("Data row 2 (line 4): 'great'");
    }

    [Fact]
    public void A_semicolon_file_with_a_byte_order_mark_and_a_quoted_line_break_is_scored_without_naming_the_delimiter()
    {
        var report = Evaluator.Evaluate(
            Write("\uFEFFtext;label;topic;note\nnegative|bug|0.9;negative;bug;\"two\nlines; one cell\"\npositive|ux|0.9;positive;ux;x\n"), new ScriptedClassifier());

        report.Rows.ShouldBe(2);
        report.Sentiment.ShouldNotBeNull().Accuracy.ShouldBe(1.0, 1e-9);
        report.Topic.ShouldNotBeNull().Accuracy.ShouldBe(1.0, 1e-9);
    }

    [Fact]
    public void A_named_delimiter_wins_over_the_detected_one()
    {
        // Tab-separated, with more commas than tabs in the header's names.
        var report = Evaluator.Evaluate(
            Write("text\tlabel\tnote,with,commas\npositive|ux|0.9\tpositive\ta,b\n"), new ScriptedClassifier(), delimiter: '\t');

        report.Rows.ShouldBe(1);
        report.Sentiment.ShouldNotBeNull().Accuracy.ShouldBe(1.0, 1e-9);
    }

    [Fact]
    public void Ten_thousand_rows_are_read_with_quoting_intact()
    {
        var rows = string.Concat(Enumerable.Range(0, 10_000).Select(i => i % 2 == 0 ? "\"negative|bug|0.9\",negative,bug\n" : "positive|ux|0.9,negative,ux\n"));

        var report = Evaluator.Evaluate(Write("text,label,topic\n" + rows), new ScriptedClassifier());

        report.Rows.ShouldBe(10_000);
        report.Sentiment.ShouldNotBeNull().Accuracy.ShouldBe(0.5, 1e-9);
    }
}
