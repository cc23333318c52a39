using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class StorageTests : IDisposable
{
    private readonly FeedbackApp _app = new(new Dictionary<string, string>(StringComparer.Ordinal) { ["SQLITE_BUSY_TIMEOUT_MS"] = "200" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Concurrent_posts_are_all_committed_with_distinct_ids()
    {
        var client = _app.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            client.PostFeedbackAsync(new { text = $"Message {i}: the sync keeps failing after the update." })));

        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("id").GetInt64()));
        ids.Distinct().Count().ShouldBe(200);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(200);
    }

    [Fact]
    public async Task The_database_is_a_sqlite_file_in_wal_mode_under_data_dir()
    {
        await _app.Client().PostFeedbackAsync(new { text = "Just making sure the file exists." });

        File.Exists(_app.DatabasePath).ShouldBeTrue();
        using var connection = _app.OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        command.ExecuteScalar().ShouldBe("wal");
    }

    [Fact]
    public async Task The_schema_comes_from_migrations_with_the_indexes_queries_need()
    {
        await _app.Client().GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        _app.Scalar("SELECT COUNT(*) FROM __ef_migrations_history").ShouldBeGreaterThan(0);
        using var connection = _app.OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'feedback'";
        var indexes = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                indexes.Add(reader.GetString(0));
            }
        }

        indexes.ShouldContain("ix_feedback_sentiment");
        indexes.ShouldContain("ix_feedback_topic");
        indexes.ShouldContain("ix_feedback_created_at");
        indexes.ShouldContain("ix_feedback_alert_triggered");
    }

    [Fact]
    public async Task Rows_survive_a_restart_and_ids_continue()
    {
        var first = await (await _app.Client().PostFeedbackAsync(new { text = "Stored before the restart happened." })).JsonAsync();

        using var restarted = _app.Restart();
        var fetched = await restarted.Client().GetAsync(new Uri($"/feedback/{first.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken);
        var second = await (await restarted.Client().PostFeedbackAsync(new { text = "Stored after the restart happened." })).JsonAsync();

        fetched.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.GetProperty("id").GetInt64().ShouldBeGreaterThan(first.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task A_store_locked_by_another_process_answers_503_and_recovers_by_itself()
    {
        var client = _app.Client();
        await client.PostFeedbackAsync(new { text = "Written before the lock was taken." });

        using (var holder = _app.OpenDatabase())
        {
            using var lockCommand = holder.CreateCommand();
            lockCommand.CommandText = "BEGIN EXCLUSIVE";
            lockCommand.ExecuteNonQuery();

            var refused = await client.PostFeedbackAsync(new { text = "Written while the database is locked." });
            var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            refused.Headers.RetryAfter.ShouldNotBeNull();
            (await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldNotContain("locked.\"");
            health.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            var report = await health.JsonAsync();
            report.Str("database").ShouldBe("unavailable");
            report.Str("status").ShouldBe("degraded");

            lockCommand.CommandText = "ROLLBACK";
            lockCommand.ExecuteNonQuery();
        }

        var accepted = await client.PostFeedbackAsync(new { text = "Written after the lock was released." });
        var healthAfter = await (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
        healthAfter.Str("database").ShouldBe("ok");
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(2);
    }
}
