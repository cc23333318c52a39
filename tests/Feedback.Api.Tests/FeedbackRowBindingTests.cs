using Feedback.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using SQLitePCL;

namespace Feedback.Api.Tests;

/// <summary>The import's raw binding against the server's parameter binding, on a store made by the migrations.</summary>
public sealed class FeedbackRowBindingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-binding-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string> Records => ["full", "sparse"];

    [Theory]
    [MemberData(nameof(Records))]
    public void A_record_bound_through_sqlites_own_api_is_stored_exactly_as_through_a_command(string name)
    {
        var record = name == "full" ? Full() : Sparse();
        using var throughCommand = OpenStore("command.db");
        using var throughApi = OpenStore("raw.db");

        using (var command = FeedbackRowBinding.CreateInsert(throughCommand, ""))
        {
            FeedbackRowBinding.Bind(command.Parameters, record);
            command.ExecuteNonQuery();
        }

        raw.sqlite3_prepare_v2(throughApi.Handle, FeedbackRowBinding.InsertSql(""), out var statement).ShouldBe(raw.SQLITE_OK);
        using (statement)
        {
            var scratch = new byte[4];
            FeedbackRowBinding.Bind(statement, record, ref scratch);
            raw.sqlite3_step(statement).ShouldBe(raw.SQLITE_DONE);
        }

        var columns = FeedbackRowBinding.Columns.Split(", ");
        var query = $"SELECT {string.Join(", ", columns.Select(c => $"typeof({c}) || ':' || quote({c})"))} FROM feedback";
        var expected = Row(throughCommand, query);
        var actual = Row(throughApi, query);
        for (var c = 0; c < columns.Length; c++)
        {
            actual[c].ShouldBe(expected[c], columns[c]);
        }

        expected[Array.IndexOf(columns, "customer_id")].ShouldBe(name == "full" ? "text:''" : "null:NULL");
    }

    private static FeedbackRecord Full() => new()
    {
        // Non-ASCII, a lone surrogate (made U+FFFD), a text longer than the scratch buffer, an empty string that must not become NULL.
        Text = "Die App stürzt ab 😡 \ud800 and " + new string('x', 9000),
        Source = "email",
        CustomerId = "",
        Metadata = "{\"plan\":\"pro\"}",
        Sentiment = "negative",
        Topic = "bug",
        Confidence = 0.1 + 0.2,
        ConfidenceScore = "medium",
        ScorePositive = 1e-300,
        ScoreNegative = 0.30000000000000004,
        ScoreNeutral = 0,
        ScoreMixed = 1.0 / 3,
        AlertTriggered = true,
        ProcessingMethod = "ml_fallback",
        Language = "de",
        PromptVersion = "v2",
        Model = "local-4",
        Status = "provisional",
        Warnings = "[\"long\"]",
        CreatedAt = new DateTime(2026, 11, 26, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567),
        IdempotencyKey = "import:abc",
        RequestHash = "hash",
    };

    private static FeedbackRecord Sparse() => new()
    {
        Text = "Just a message.",
        Sentiment = "neutral",
        Topic = "general",
        ConfidenceScore = "low",
        ProcessingMethod = "validation",
        Language = "und",
        Model = "rules",
        Status = "final",
        Warnings = "[]",
        CreatedAt = new DateTime(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc),
    };

    private SqliteConnection OpenStore(string file)
    {
        var connectionString = $"Data Source={Path.Combine(_directory, file)};Pooling=False";
        using (var db = new FeedbackDb(new DbContextOptionsBuilder<FeedbackDb>()
            .UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history")).Options))
        {
            db.Database.Migrate();
        }

        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    private static string[] Row(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        reader.Read().ShouldBeTrue();
        return [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)];
    }
}
