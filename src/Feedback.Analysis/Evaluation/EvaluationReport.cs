using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Feedback.Analysis.Evaluation;

/// <summary>How a classifier did on one labelled CSV.</summary>
/// <param name="Rows">Every data row read, labelled or not.</param>
/// <param name="Sentiment">Null when no row has a sentiment label.</param>
/// <param name="Topic">Null when no row has a topic label.</param>
/// <param name="Alert">Alert rule quality over the rows with a sentiment label; null when there are none.</param>
internal sealed record EvaluationReport(int Rows, LabelMetrics? Sentiment, LabelMetrics? Topic, AlertMetrics? Alert)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"rows: {Rows}\n");
        AppendSection(text, "sentiment", Sentiment);
        AppendSection(text, "topic", Topic);
        if (Alert is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nalert (truth: the action column where the file has one, else negative or mixed; predicted: the default alert rule, probability that a person must act >= {AlertRule.Default.ActionThreshold:0.00} where the classifier gives one (the deep model), else probability of negative or mixed >= {AlertRule.Default.MinimumProbability:0.00})\n");
            text.Append(CultureInfo.InvariantCulture, $"  precision {Alert.Precision:0.000}  recall {Alert.Recall:0.000}  F1 {Alert.F1:0.000}  (true {Alert.TruePositives}, false {Alert.FalsePositives}, missed {Alert.FalseNegatives})\n");
        }

        return text.ToString();
    }

    private static void AppendSection(StringBuilder text, string name, LabelMetrics? metrics)
    {
        if (metrics is null)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{name}: no labelled rows\n");
            return;
        }

        text.Append(CultureInfo.InvariantCulture, $"\n{name} ({metrics.Rows} labelled rows)\n");
        text.Append(CultureInfo.InvariantCulture, $"  accuracy {metrics.Accuracy:0.000}  macro-F1 {metrics.MacroF1:0.000}  ECE {(metrics.Ece is { } ece ? ece.ToString("0.000", CultureInfo.InvariantCulture) : "n/a")}\n");
        text.Append(CultureInfo.InvariantCulture, $"  {"class",-16}{"precision",10}{"recall",10}{"F1",10}{"support",10}\n");
        foreach (var (label, c) in metrics.PerClass)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {label,-16}{c.Precision,10:0.000}{c.Recall,10:0.000}{c.F1,10:0.000}{c.Support,10}\n");
        }

        var labels = metrics.PerClass.Keys.ToList();
        text.Append(CultureInfo.InvariantCulture, $"  confusion (rows actual, columns predicted)\n  {"",-16}");
        foreach (var label in labels)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Abbreviate(label),10}");
        }

        text.Append('\n');
        foreach (var actual in labels)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {actual,-16}");
            foreach (var predicted in labels)
            {
                text.Append(CultureInfo.InvariantCulture, $"{metrics.Confusion[actual][predicted],10}");
            }

            text.Append('\n');
        }
    }

    private static string Abbreviate(string label) => label.Length <= 9 ? label : label[..9];
}

/// <summary>Metrics for one label (sentiment or topic).</summary>
/// <param name="PerClass">Every class that occurs as truth or prediction, in enum order.</param>
/// <param name="Confusion">Counts by actual class, then predicted class.</param>
/// <param name="Ece">Expected calibration error over 10 equal-width confidence bins; null without confidences.</param>
internal sealed record LabelMetrics(
    int Rows,
    double Accuracy,
    [property: JsonPropertyName("macro_f1")] double MacroF1,
    IReadOnlyDictionary<string, ClassMetrics> PerClass,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Confusion,
    double? Ece);

internal sealed record ClassMetrics(double Precision, double Recall, double F1, int Support);

internal sealed record AlertMetrics(double Precision, double Recall, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}
