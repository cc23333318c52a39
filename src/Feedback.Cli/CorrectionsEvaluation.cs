using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Analysis;
using Feedback.Analysis.Evaluation;
using Feedback.Cli.Store;

namespace Feedback.Cli;

/// <summary>
/// <c>eval --corrections</c>: the model's stored answers scored against the labels people set, each message's latest.
/// Nothing is classified again: this is how the answers the service actually gave hold up.
/// </summary>
internal static class CorrectionsEvaluation
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static async Task<int> RunAsync(bool json, CancellationToken cancellationToken)
    {
        var settings = CliStore.Settings();
        var corrections = CliStore.MayHoldRows(settings) ? await StoredCorrections.ReadAllAsync(settings, cancellationToken) : [];
        if (corrections.Count == 0)
        {
            await Console.Error.WriteLineAsync("No message in the store has a label yet (PUT /feedback/{id}/label sets one).");
            return 1;
        }

        var report = Score(corrections);
        Console.WriteLine(json ? JsonSerializer.Serialize(report, JsonOptions) : ToText(report));
        return 0;
    }

    /// <summary>
    /// Sentiment and topic as <see cref="Evaluator"/> scores a labelled file (a label outside the classifier's names
    /// is left out of that label's figures), and whether the stored alert agrees with the person: a negative or mixed
    /// label is a message a person should have been alerted to.
    /// </summary>
    private static CorrectionsReport Score(IReadOnlyList<StoredCorrection> corrections)
    {
        var sentiments = new List<Evaluator.Outcome<Sentiment>>();
        var topics = new List<Evaluator.Outcome<Topic>>();
        var alerts = new List<(bool Truth, bool Predicted)>();
        foreach (var c in corrections)
        {
            if (WireNames.TryParseSentiment(c.Sentiment, out var truth) && WireNames.TryParseSentiment(c.ModelSentiment, out var predicted))
            {
                sentiments.Add(new Evaluator.Outcome<Sentiment>(truth, predicted, c.ModelConfidence));
                alerts.Add((truth is Sentiment.Negative or Sentiment.Mixed, c.AlertTriggered));
            }

            if (Topic.TryParse(c.Topic, out var topic) && Topic.TryParse(c.ModelTopic, out var predictedTopic))
            {
                topics.Add(new Evaluator.Outcome<Topic>(topic, predictedTopic, null));
            }
        }

        var alert = alerts.Count == 0 ? null : Evaluator.Alerts(alerts);
        return new CorrectionsReport(
            corrections.Count,
            sentiments.Count == 0 ? null : Evaluator.Score(sentiments, WireNames.Of),
            topics.Count == 0 ? null : Evaluator.Score(topics, WireNames.Of),
            alert is null ? null : new AlertAgreement((double)alerts.Count(a => a.Truth == a.Predicted) / alerts.Count, alert.Precision, alert.Recall, alert.F1, alert.TruePositives, alert.FalsePositives, alert.FalseNegatives));
    }

    private static string ToText(CorrectionsReport report)
    {
        // The sentiment and topic sections as eval prints them for a file; the alert line is this command's own.
        var sections = new EvaluationReport(report.Labelled, report.Sentiment, report.Topic, Alert: null).ToText();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"stored answers against people's labels: {report.Labelled} labelled messages (each one's latest label)\n");
        text.Append(sections[(sections.IndexOf('\n', StringComparison.Ordinal) + 1)..]);
        if (report.Alert is { } a)
        {
            text.Append("\nalert (truth: the label is negative or mixed; predicted: the stored alert_triggered)\n");
            text.Append(CultureInfo.InvariantCulture, $"  agreement {a.Agreement:0.000}  precision {a.Precision:0.000}  recall {a.Recall:0.000}  F1 {a.F1:0.000}  (true {a.TruePositives}, false {a.FalsePositives}, missed {a.FalseNegatives})\n");
        }

        return text.ToString();
    }

    private sealed record CorrectionsReport(int Labelled, LabelMetrics? Sentiment, LabelMetrics? Topic, AlertAgreement? Alert);

    /// <param name="Agreement">The share of labelled messages whose stored alert matches the label.</param>
    private sealed record AlertAgreement(double Agreement, double Precision, double Recall, double F1, int TruePositives, int FalsePositives, int FalseNegatives);
}
