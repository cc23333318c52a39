using System.Data.Common;

namespace Feedback.Storage;

/// <summary>
/// The stored answer a revision replaces and the text it was given for, read the same way by the SQLite and the
/// PostgreSQL writer: the history row records it, and the alert is re-decided against it.
/// </summary>
internal sealed record RevisedAnswer(string Sentiment, string Topic, double Confidence, string Method, bool Alert, string Status, string Text, DateTime CreatedAt)
{
    /// <summary>The columns <see cref="Read"/> expects, in its order.</summary>
    public const string Columns = "sentiment, topic, confidence, processing_method, alert_triggered, status, text, created_at";

    public static RevisedAnswer Read(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetString(3), reader.GetBoolean(4),
        reader.GetString(5), reader.GetString(6), DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));

    /// <summary>Only a provisional answer is revised, unless the revision replaces final ones too (reclassify).</summary>
    public bool Accepts(Revision revision) => revision.ReplacesFinal || Status == "provisional";
}
