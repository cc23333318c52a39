using System.Data.Common;
using Feedback.Analysis;

namespace Feedback.Cli.Store;

/// <summary>
/// A message a person labelled (PUT /feedback/{id}/label): its latest label, and the model's answer as stored, which a
/// label never changes. Names are wire names.
/// </summary>
internal sealed record StoredCorrection(
    long FeedbackId, string Text, string Sentiment, string Topic, string ModelSentiment, string ModelTopic, double ModelConfidence, bool AlertTriggered);

/// <summary>A labelled message as a training row.</summary>
internal sealed record CorrectionRow(string Text, Sentiment Sentiment, Topic Topic);

/// <summary>The people's labels in the store the CLI is configured for (the SQLite file or PostgreSQL), read with SQL both understand.</summary>
internal static class StoredCorrections
{
    /// <summary>Each labelled message's latest label beside the model's stored answer, by message id.</summary>
    public static async Task<IReadOnlyList<StoredCorrection>> ReadAllAsync(CliSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = CliStore.Open(settings);
        await using var command = connection.Command(
            "SELECT f.id, f.text, l.sentiment, l.topic, f.sentiment, f.topic, f.confidence, f.alert_triggered " +
            "FROM labels l JOIN feedback f ON f.id = l.feedback_id " +
            "WHERE NOT EXISTS (SELECT 1 FROM labels later WHERE later.feedback_id = l.feedback_id AND later.id > l.id) " +
            "ORDER BY f.id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<StoredCorrection>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new StoredCorrection(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetDouble(6), reader.GetBoolean(7)));
        }

        return rows;
    }

    /// <summary>
    /// The labelled messages as training rows (text, the person's sentiment and topic), by message id. A label whose
    /// topic is not one the classifier knows (a taxonomy changed since) is counted in <c>Unknown</c>, not trained on.
    /// </summary>
    public static async Task<(IReadOnlyList<CorrectionRow> Rows, int Unknown)> ReadAsync(CliSettings settings, CancellationToken cancellationToken)
    {
        var rows = new List<CorrectionRow>();
        var unknown = 0;
        foreach (var correction in await ReadAllAsync(settings, cancellationToken))
        {
            if (WireNames.TryParseSentiment(correction.Sentiment, out var sentiment) && Topic.TryParse(correction.Topic, out var topic))
            {
                rows.Add(new CorrectionRow(correction.Text, sentiment, topic));
            }
            else
            {
                unknown++;
            }
        }

        return (rows, unknown);
    }
}
