using Feedback.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The background services' plain-SQL reads of the SQLite file give what the EF Core queries they replace gave (the
/// PostgreSQL store still runs those), on the same rows of a real file.
/// </summary>
public sealed class SqliteBackgroundReadsTests : IDisposable
{
    private static readonly DateTime Now = new(2026, 11, 26, 5, 0, 0, DateTimeKind.Utc);

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-reads-").FullName;
    private readonly string _connectionString;
    private readonly ServiceProvider _efServices;
    private readonly SqliteBackgroundReads _sqlite;
    private readonly EfBackgroundReads _ef;
    private readonly SqliteWorkClaims _claims;

    public SqliteBackgroundReadsTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "feedback.db")}";
        using (var connection = new SqliteConnection(_connectionString))
        {
            connection.Open();
            SqliteSchema.Apply(connection, _connectionString);
            Seed(connection);
        }

        var connections = new SqliteReadConnections(new SqliteStoreSettings(_connectionString, "FULL", 1000));
        _sqlite = new SqliteBackgroundReads(connections);
        _claims = new SqliteWorkClaims(connections);
        _efServices = new ServiceCollection()
            .AddDbContextPool<FeedbackDb>(options => options.UseSqlite(_connectionString))
            .BuildServiceProvider();
        _ef = new EfBackgroundReads(_efServices.GetRequiredService<IServiceScopeFactory>());
    }

    public void Dispose()
    {
        _efServices.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_pending_count_counts_every_undelivered_delivery_due_or_not()
    {
        var count = await _sqlite.CountPendingDeliveriesAsync(TestContext.Current.CancellationToken);

        count.ShouldBe(5);
        count.ShouldBe(await _ef.CountPendingDeliveriesAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_pending_delivery_loads_its_group_and_messages_as_the_ef_query_did()
    {
        var sqlite = (await _sqlite.LoadDeliveryAsync(1, 1, TestContext.Current.CancellationToken)).ShouldNotBeNull();
        var ef = (await _ef.LoadDeliveryAsync(1, 1, TestContext.Current.CancellationToken)).ShouldNotBeNull();

        sqlite.Feedback.Select(f => f.Id).ShouldBe(new long[] { 2, 1 });
        sqlite.Feedback.ShouldBe(ef.Feedback);
        sqlite.Group.Summary.ShouldBe("Checkout fails");
        sqlite.Group.Count.ShouldBe(2);
        sqlite.Group.FirstAt.ShouldBe(ef.Group.FirstAt);
        sqlite.Group.LastAt.ShouldBe(ef.Group.LastAt);
        (sqlite.Group.Id, sqlite.Group.Kind, sqlite.Group.Topic, sqlite.Group.Severity, sqlite.Group.State, sqlite.Group.Fingerprint)
            .ShouldBe((ef.Group.Id, ef.Group.Kind, ef.Group.Topic, ef.Group.Severity, ef.Group.State, ef.Group.Fingerprint));
    }

    [Fact]
    public async Task A_delivered_delivery_loads_nothing()
    {
        (await _sqlite.LoadDeliveryAsync(5, 1, TestContext.Current.CancellationToken)).ShouldBeNull();
        (await _ef.LoadDeliveryAsync(5, 1, TestContext.Current.CancellationToken)).ShouldBeNull();
    }

    [Fact]
    public async Task Negative_counts_per_topic_cover_the_window_start_but_not_its_end()
    {
        var from = Now.AddHours(-1);

        var sqlite = await _sqlite.CountNegativeByTopicAsync(from, Now, TestContext.Current.CancellationToken);

        // Row 1 is exactly at the start, row 4 exactly at the end, row 3 is positive.
        sqlite.ShouldBe(new Dictionary<string, int>(StringComparer.Ordinal) { ["billing"] = 2, ["bug"] = 1 });
        sqlite.ShouldBe(await _ef.CountNegativeByTopicAsync(from, Now, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Claimed_deliveries_are_the_due_ones_of_the_given_channels_not_held_oldest_first()
    {
        var due = await _claims.ClaimDeliveriesAsync(["log", "slack"], [3], Now, TimeSpan.FromMinutes(1), 10, TestContext.Current.CancellationToken);

        // 1 and 2 are due (2 since longer), 3 is held, 4 is not due yet, 5 is delivered, 6 is for another channel.
        due.Select(d => d.Id).ShouldBe(new long[] { 2, 1 });
        due[0].ShouldSatisfyAllConditions(
            d => d.Channel.ShouldBe("slack"),
            d => d.Attempts.ShouldBe(2),
            d => d.LastError.ShouldBe("HTTP 500"),
            d => d.NextAttemptAt.ShouldBe(Now.AddMinutes(-5)));
        // Without the held one, the oldest due is 3.
        (await _claims.ClaimDeliveriesAsync(["log", "slack"], [], Now, TimeSpan.FromMinutes(1), 1, TestContext.Current.CancellationToken))
            .Select(d => d.Id).ShouldBe(new long[] { 3 });
    }

    [Fact]
    public async Task Provisional_rows_are_claimed_in_id_order_after_the_given_id()
    {
        var rows = await _claims.ClaimProvisionalAsync(1, Now, TimeSpan.FromMinutes(1), 10, TestContext.Current.CancellationToken);

        rows.ShouldBe(new (long, string)[] { (3, "Love the new export."), (5, "Invoice total is wrong again.") });
    }

    private static void Seed(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            """
            INSERT INTO feedback (id, text, sentiment, topic, confidence, confidence_score, score_positive, score_negative, score_neutral,
                score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at) VALUES
              (1, 'Checkout fails.', 'negative', 'billing', 0.91, 'high', 0.02, 0.91, 0.04, 0.03, 1, 'ml_fallback', 'en', 'local', 'provisional', '[]', $hourAgo),
              (2, 'Checkout fails again.', 'mixed', 'billing', 0.7, 'medium', 0.2, 0.3, 0.1, 0.4, 1, 'ml_fallback', 'en', 'local', 'final', '[]', $recent),
              (3, 'Love the new export.', 'positive', 'billing', 0.95, 'high', 0.95, 0.01, 0.03, 0.01, 0, 'ml_fallback', 'en', 'local', 'provisional', '[]', $recent),
              (4, 'Crash on save.', 'negative', 'bug', 0.9, 'high', 0.02, 0.9, 0.05, 0.03, 1, 'ml_fallback', 'en', 'local', 'final', '[]', $now),
              (5, 'Invoice total is wrong again.', 'negative', 'bug', 0.9, 'high', 0.02, 0.9, 0.05, 0.03, 1, 'ml_fallback', 'en', 'local', 'provisional', '[]', $recent);
            INSERT INTO alert_groups (id, kind, topic, severity, fingerprint, first_at, last_at, count, state, summary) VALUES
              (1, 'feedback', 'billing', 'high', -42, $hourAgo, $recent, 2, 'open', 'Checkout fails');
            INSERT INTO alerts (id, confidence, created_at, feedback_id, group_id, sentiment, severity, state, topic) VALUES
              (7, 0.7, $recent, 2, 1, 'mixed', 'high', 'open', 'billing'),
              (8, 0.91, $hourAgo, 1, 1, 'negative', 'high', 'open', 'billing');
            INSERT INTO alert_deliveries (id, group_id, kind, channel, state, attempts, next_attempt_at, last_error, created_at, delivered_at) VALUES
              (1, 1, 'initial', 'log', 'pending', 0, $recent, NULL, $hourAgo, NULL),
              (2, 1, 'initial', 'slack', 'pending', 2, $fiveMinutesAgo, 'HTTP 500', $hourAgo, NULL),
              (3, 1, 'summary', 'slack', 'pending', 0, $hourAgo, NULL, $hourAgo, NULL),
              (4, 1, 'summary', 'log', 'pending', 0, $later, NULL, $hourAgo, NULL),
              (5, 1, 'initial', 'webhook', 'delivered', 1, $hourAgo, NULL, $hourAgo, $recent),
              (6, 1, 'initial', 'pagerduty', 'pending', 0, $hourAgo, NULL, $hourAgo, NULL);
            """;
        command.Parameters.AddWithValue("$hourAgo", Now.AddHours(-1));
        command.Parameters.AddWithValue("$fiveMinutesAgo", Now.AddMinutes(-5));
        command.Parameters.AddWithValue("$recent", Now.AddMinutes(-1));
        command.Parameters.AddWithValue("$now", Now);
        command.Parameters.AddWithValue("$later", Now.AddMinutes(5));
        command.ExecuteNonQuery();
    }
}
