using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Feedback.Api.Storage;

/// <summary>
/// The columns a new feedback row is inserted with and how a <see cref="FeedbackRecord"/> fills them, shared by
/// the server's writer and the CLI's import so that a column added to one cannot be forgotten in the other.
/// </summary>
internal static class FeedbackRowBinding
{
    /// <summary>The insert columns, in the order <see cref="Bind"/> fills the parameters.</summary>
    public const string Columns =
        "text, source, customer_id, metadata, sentiment, topic, confidence, confidence_score, " +
        "score_positive, score_negative, score_neutral, score_mixed, alert_triggered, processing_method, " +
        "language, prompt_version, model, status, warnings, created_at, idempotency_key, request_hash";

    /// <summary>
    /// A row read back by a query that selects <c>id</c> followed by <see cref="Columns"/>, from SQLite or PostgreSQL.
    /// </summary>
    public static FeedbackRecord Read(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        Text = reader.GetString(1),
        Source = reader.IsDBNull(2) ? null : reader.GetString(2),
        CustomerId = reader.IsDBNull(3) ? null : reader.GetString(3),
        Metadata = reader.IsDBNull(4) ? null : reader.GetString(4),
        Sentiment = reader.GetString(5),
        Topic = reader.GetString(6),
        Confidence = reader.GetDouble(7),
        ConfidenceScore = reader.GetString(8),
        ScorePositive = reader.GetDouble(9),
        ScoreNegative = reader.GetDouble(10),
        ScoreNeutral = reader.GetDouble(11),
        ScoreMixed = reader.GetDouble(12),
        AlertTriggered = reader.GetBoolean(13),
        ProcessingMethod = reader.GetString(14),
        Language = reader.GetString(15),
        PromptVersion = reader.IsDBNull(16) ? null : reader.GetString(16),
        Model = reader.GetString(17),
        Status = reader.GetString(18),
        Warnings = reader.GetString(19),
        CreatedAt = DateTime.SpecifyKind(reader.GetDateTime(20), DateTimeKind.Utc),
        IdempotencyKey = reader.IsDBNull(21) ? null : reader.GetString(21),
        RequestHash = reader.IsDBNull(22) ? null : reader.GetString(22),
    };

    /// <summary>An INSERT of every column from <c>$column</c> parameters, followed by <paramref name="tail"/> (a conflict clause, RETURNING).</summary>
    public static SqliteCommand CreateInsert(SqliteConnection connection, string tail)
    {
        var names = Columns.Split(", ");
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO feedback ({Columns}) VALUES ({string.Join(", ", names.Select(n => "$" + n))}) {tail}";
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter("$" + name, null));
        }

        return command;
    }

    /// <summary>Sets the parameters of a command made by <see cref="CreateInsert"/> (or with the same parameter order) to a record.</summary>
    public static void Bind(SqliteParameterCollection p, FeedbackRecord r)
    {
        p[0].Value = r.Text;
        p[1].Value = (object?)r.Source ?? DBNull.Value;
        p[2].Value = (object?)r.CustomerId ?? DBNull.Value;
        p[3].Value = (object?)r.Metadata ?? DBNull.Value;
        p[4].Value = r.Sentiment;
        p[5].Value = r.Topic;
        p[6].Value = r.Confidence;
        p[7].Value = r.ConfidenceScore;
        p[8].Value = r.ScorePositive;
        p[9].Value = r.ScoreNegative;
        p[10].Value = r.ScoreNeutral;
        p[11].Value = r.ScoreMixed;
        p[12].Value = r.AlertTriggered;
        p[13].Value = r.ProcessingMethod;
        p[14].Value = r.Language;
        p[15].Value = (object?)r.PromptVersion ?? DBNull.Value;
        p[16].Value = r.Model;
        p[17].Value = r.Status;
        p[18].Value = r.Warnings;
        p[19].Value = r.CreatedAt;
        p[20].Value = (object?)r.IdempotencyKey ?? DBNull.Value;
        p[21].Value = (object?)r.RequestHash ?? DBNull.Value;
    }
}
