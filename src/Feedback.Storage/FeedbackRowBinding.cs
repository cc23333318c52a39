using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Feedback.Storage;

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
        "language, prompt_version, model, status, warnings, created_at, idempotency_key, request_hash, topic_scores, embedding";

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
        TopicScores = reader.IsDBNull(23) ? null : reader.GetString(23),
        Embedding = reader.IsDBNull(24) ? null : (byte[])reader.GetValue(24),
    };

    /// <summary>How Microsoft.Data.Sqlite writes a <see cref="DateTime"/> as text; the raw binding writes it the same way.</summary>
    private const string DateTimeFormat = @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFF";

    /// <summary>An INSERT of every column from <c>$column</c> parameters, followed by <paramref name="tail"/> (a conflict clause, RETURNING).</summary>
    public static string InsertSql(string tail) =>
        $"INSERT INTO feedback ({Columns}) VALUES ({string.Join(", ", Columns.Split(", ").Select(n => "$" + n))}) {tail}";

    /// <summary>A command for <see cref="InsertSql"/>, its parameters in the order <see cref="Bind(SqliteParameterCollection, FeedbackRecord)"/> fills them.</summary>
    public static SqliteCommand CreateInsert(SqliteConnection connection, string tail)
    {
        var command = connection.CreateCommand();
        command.CommandText = InsertSql(tail);
        foreach (var name in Columns.Split(", "))
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
        p[22].Value = (object?)r.TopicScores ?? DBNull.Value;
        p[23].Value = (object?)r.Embedding ?? DBNull.Value;
    }

    /// <summary>
    /// Binds a record to a statement prepared from <see cref="InsertSql"/> through SQLite's own API, for the bulk import and
    /// the server's writer: no boxed values, no parameter looked up by name and no UTF-8 copy left for the GC, which halves the cost of an
    /// insert. The stored values are exactly those of <see cref="Bind(SqliteParameterCollection, FeedbackRecord)"/>
    /// (a test compares the two); <paramref name="utf8"/> is the caller's scratch buffer, grown when a text needs more.
    /// </summary>
    public static void Bind(sqlite3_stmt statement, FeedbackRecord r, ref byte[] utf8)
    {
        BindText(statement, 1, r.Text, ref utf8);
        BindText(statement, 2, r.Source, ref utf8);
        BindText(statement, 3, r.CustomerId, ref utf8);
        BindText(statement, 4, r.Metadata, ref utf8);
        BindText(statement, 5, r.Sentiment, ref utf8);
        BindText(statement, 6, r.Topic, ref utf8);
        Check(statement, raw.sqlite3_bind_double(statement, 7, r.Confidence));
        BindText(statement, 8, r.ConfidenceScore, ref utf8);
        Check(statement, raw.sqlite3_bind_double(statement, 9, r.ScorePositive));
        Check(statement, raw.sqlite3_bind_double(statement, 10, r.ScoreNegative));
        Check(statement, raw.sqlite3_bind_double(statement, 11, r.ScoreNeutral));
        Check(statement, raw.sqlite3_bind_double(statement, 12, r.ScoreMixed));
        Check(statement, raw.sqlite3_bind_int64(statement, 13, r.AlertTriggered ? 1 : 0));
        BindText(statement, 14, r.ProcessingMethod, ref utf8);
        BindText(statement, 15, r.Language, ref utf8);
        BindText(statement, 16, r.PromptVersion, ref utf8);
        BindText(statement, 17, r.Model, ref utf8);
        BindText(statement, 18, r.Status, ref utf8);
        BindText(statement, 19, r.Warnings, ref utf8);
        BindDateTime(statement, 20, r.CreatedAt, ref utf8);
        BindText(statement, 21, r.IdempotencyKey, ref utf8);
        BindText(statement, 22, r.RequestHash, ref utf8);
        BindText(statement, 23, r.TopicScores, ref utf8);
        BindBlob(statement, 24, r.Embedding);
    }

    /// <summary>Binds bytes as a BLOB; null as NULL.</summary>
    public static void BindBlob(sqlite3_stmt statement, int index, byte[]? value) =>
        Check(statement, value is null ? raw.sqlite3_bind_null(statement, index) : raw.sqlite3_bind_blob(statement, index, value));

    /// <summary>Binds text as UTF-8 made by .NET's encoder, as Microsoft.Data.Sqlite does (a lone surrogate becomes U+FFFD either way); null as NULL.</summary>
    public static void BindText(sqlite3_stmt statement, int index, string? value, ref byte[] utf8) =>
        Text(statement, index, value, value is null, ref utf8);

    /// <summary>Binds a time as the text Microsoft.Data.Sqlite writes for it, so rows compare and read back alike.</summary>
    public static void BindDateTime(sqlite3_stmt statement, int index, DateTime value, ref byte[] utf8)
    {
        Span<char> text = stackalloc char[32];
        value.TryFormat(text, out var length, DateTimeFormat, CultureInfo.InvariantCulture);
        Text(statement, index, text[..length], isNull: false, ref utf8);
    }

    private static void Text(sqlite3_stmt statement, int index, ReadOnlySpan<char> value, bool isNull, ref byte[] utf8)
    {
        if (isNull)
        {
            Check(statement, raw.sqlite3_bind_null(statement, index));
            return;
        }

        if (value.IsEmpty)
        {
            // An empty span has no address, and SQLite reads text without an address as NULL.
            Check(statement, raw.sqlite3_bind_text(statement, index, ""));
            return;
        }

        var most = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (utf8.Length < most)
        {
            utf8 = new byte[Math.Max(most, utf8.Length * 2)];
        }

        var length = Encoding.UTF8.GetBytes(value, utf8);
        Check(statement, raw.sqlite3_bind_text(statement, index, utf8.AsSpan(0, length)));
    }

    private static void Check(sqlite3_stmt statement, int result)
    {
        if (result != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(raw.sqlite3_db_handle(statement)).utf8_to_string(), result);
        }
    }
}
