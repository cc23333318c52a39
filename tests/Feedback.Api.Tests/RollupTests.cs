using System.Data.Common;
using System.Globalization;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Storage;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #23 item 1: the hourly rollups GET /stats reads equal a full count of the rows (GROUP BY over feedback) after
/// random writes (single, concurrent, batches, replays of idempotency keys, a batch large enough for PostgreSQL's COPY),
/// revisions that move a message to other labels, labels, erasures and deletions, on each store. The seed is fixed, so
/// a failure replays.
/// </summary>
public abstract class RollupTests : IDisposable
{
    private static readonly string[] Sentiments = ["positive", "negative", "neutral", "mixed"];
    private static readonly string[] Topics = ["bug", "feature_request", "billing", "performance", "ux", "general"];
    private static readonly string[] Methods = ["ai", "ml_fallback", "validation"];
    private static readonly DateTime Start = new(2026, 11, 1, 22, 0, 0, DateTimeKind.Utc);

    private readonly FeedbackApp _app;
    private readonly Random _random = new(2326);
    private readonly List<long> _ids = [];
    private int _next;

    protected RollupTests(StoreKind store) => _app = new FeedbackApp(store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Rollups_equal_a_full_count_after_random_writes_revisions_labels_erasures_and_deletions()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = _app.Services.GetRequiredService<IFeedbackStore>();
        var large = false;
        int revised = 0, erased = 0, deleted = 0;
        for (var step = 0; step < 240; step++)
        {
            var roll = _random.Next(100);
            if (roll < 30)
            {
                Remember(await store.WriteAsync(Message(), ct));
            }
            else if (roll < 45)
            {
                // Concurrent requests share group commits (two in flight on PostgreSQL).
                var written = await Task.WhenAll(Enumerable.Range(0, _random.Next(2, 12)).Select(_ => store.WriteAsync(Message(), ct)));
                foreach (var one in written)
                {
                    Remember(one);
                }
            }
            else if (roll < 55)
            {
                // A batch; once, one of 150 messages without alerts, which PostgreSQL's writer copies in.
                var count = large ? _random.Next(1, 30) : 150;
                var alerts = large;
                large = true;
                foreach (var one in await store.WriteBatchAsync([.. Enumerable.Range(0, count).Select(_ => Message(alerts))], ct))
                {
                    Remember(one);
                }
            }
            else if (roll < 80 && _ids.Count > 0)
            {
                var revisions = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Revise(Pick())).ToList();
                revised += (await Task.WhenAll(revisions.Select(r => store.ReviseAsync(r, ct)))).Count(applied => applied);
            }
            else if (roll < 88 && _ids.Count > 0)
            {
                await store.LabelAsync(new NewLabel(Pick(), Sentiments[_random.Next(4)], Topics[_random.Next(6)], Start, "tester"), ct);
            }
            else if (roll < 94)
            {
                await using var connection = Open();
                erased += (await CustomerErasure.EraseAsync(connection, Customer(), ct)).Count;
            }
            else if (_ids.Count > 0)
            {
                // A deletion by time, as retention makes: a few of the oldest hours' rows.
                var ids = Enumerable.Range(0, _random.Next(1, 6)).Select(_ => Pick()).Distinct().ToList();
                var list = string.Join(", ", ids);
                deleted += (int)_app.Scalar($"SELECT count(*) FROM feedback WHERE id IN ({list})");
                _app.Execute($"DELETE FROM feedback WHERE id IN ({list})");
            }
        }

        // Each kind of change happened, so each was counted against the rows.
        (revised, erased, deleted).ShouldSatisfyAllConditions(() => revised.ShouldBeGreaterThan(30), () => erased.ShouldBeGreaterThan(20), () => deleted.ShouldBeGreaterThan(5));
        var (rows, rollups, daily, sentiments) = await ReadBothAsync();
        rows.Values.Sum().ShouldBeGreaterThan(300);
        rows.Count.ShouldBeGreaterThan(100);
        rollups.ShouldBe(rows, ignoreOrder: true);
        daily.ShouldBe(Daily(rows), ignoreOrder: true);
        sentiments.ShouldBe(BySentiment(rows), ignoreOrder: true);

        // The alert counters equal a count of the alerts by hour raised and state, after raises, supersessions by
        // revisions, erasures, deletions and resolved groups.
        var groups = _app.Scalar("SELECT count(*) FROM alert_groups WHERE state = 'open'");
        groups.ShouldBeGreaterThan(2);
        for (var i = 0; i < 3; i++)
        {
            var group = _app.Scalar("SELECT min(id) FROM alert_groups WHERE state = 'open'");
            (await store.ResolveGroupAsync(new GroupResolution(group, Start.AddHours(70)), ct)).ShouldBeTrue();
        }

        var (raised, alertCounters) = await ReadAlertsAsync();
        raised.Values.Sum().ShouldBeGreaterThan(20);
        raised.Keys.Select(k => k.Split('|')[1]).Distinct(StringComparer.Ordinal).Count().ShouldBe(3);
        alertCounters.ShouldBe(raised, ignoreOrder: true);

        // The rebuild counts the same, and so does GET /stats over every hour written.
        await using (var connection = Open())
        {
            (await RollupsSql.RebuildAsync(connection, ct)).ShouldBe(rows.Values.Sum());
        }

        (await ReadAlertsAsync()).Counters.ShouldBe(raised, ignoreOrder: true);
        var rebuilt = await ReadBothAsync();
        rebuilt.Rollups.ShouldBe(rows, ignoreOrder: true);
        rebuilt.Daily.ShouldBe(Daily(rows), ignoreOrder: true);
        rebuilt.Sentiments.ShouldBe(BySentiment(rows), ignoreOrder: true);

        // A range that starts and ends inside a day: its totals join whole days' sums to the hours at either end, and
        // its hour and day series equal the rows' counts per bucket.
        var hourly = await (await _app.Client().GetAsync(
            new Uri("/stats?bucket=hour&from=2026-11-01T23:00:00Z&to=2026-11-03T05:00:00Z", UriKind.Relative), ct)).JsonAsync();
        hourly.GetProperty("total").GetInt64().ShouldBe(rows.Where(r => string.CompareOrdinal(r.Key, "2026-11-01 23") >= 0 && string.CompareOrdinal(r.Key, "2026-11-03 05") < 0).Sum(r => r.Value));
        hourly.GetProperty("total").GetInt64().ShouldBeGreaterThan(0);
        foreach (var bucket in hourly.GetProperty("series").EnumerateArray())
        {
            var hour = bucket.GetProperty("start").GetDateTime().ToUniversalTime().ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture);
            bucket.GetProperty("total").GetInt64().ShouldBe(rows.Where(r => r.Key.StartsWith(hour + "|", StringComparison.Ordinal)).Sum(r => r.Value), hour);
            bucket.GetProperty("alerts").GetInt64().ShouldBe(rows.Where(r => r.Key.StartsWith(hour + "|", StringComparison.Ordinal) && r.Key.EndsWith("|1", StringComparison.Ordinal)).Sum(r => r.Value), hour);
        }

        var days = await (await _app.Client().GetAsync(
            new Uri("/stats?bucket=day&from=2026-11-01T00:00:00Z&to=2026-11-05T00:00:00Z", UriKind.Relative), ct)).JsonAsync();
        foreach (var bucket in days.GetProperty("series").EnumerateArray())
        {
            var day = bucket.GetProperty("start").GetDateTime().ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            bucket.GetProperty("total").GetInt64().ShouldBe(rows.Where(r => r.Key.StartsWith(day, StringComparison.Ordinal)).Sum(r => r.Value), day);
            foreach (var sentiment in Sentiments)
            {
                bucket.GetProperty("sentiment").GetProperty(sentiment).GetInt64()
                    .ShouldBe(rows.Where(r => r.Key.StartsWith(day, StringComparison.Ordinal) && r.Key.Split('|')[1] == sentiment).Sum(r => r.Value), day + sentiment);
            }
        }

        var stats = await (await _app.Client().GetAsync(
            new Uri("/stats?bucket=hour&from=2026-11-01T00:00:00Z&to=2026-11-05T00:00:00Z", UriKind.Relative), ct)).JsonAsync();
        stats.GetProperty("total").GetInt64().ShouldBe(rows.Values.Sum());
        foreach (var state in new[] { "open", "resolved", "superseded" })
        {
            stats.GetProperty("alerts").GetProperty(state).GetInt64().ShouldBe(raised.Where(a => a.Key.EndsWith("|" + state, StringComparison.Ordinal)).Sum(a => a.Value), state);
        }

        stats.GetProperty("alerts").GetProperty("triggered").GetInt64().ShouldBe(rows.Where(r => r.Key.EndsWith("|1", StringComparison.Ordinal)).Sum(r => r.Value));
        foreach (var sentiment in Sentiments)
        {
            stats.GetProperty("sentiment").GetProperty(sentiment).GetInt64()
                .ShouldBe(rows.Where(r => r.Key.Split('|')[1] == sentiment).Sum(r => r.Value), sentiment);
        }
    }

    /// <summary>
    /// A message's labels changed by hand in SQL, outside the service's writer: SQLite's triggers count the change in the
    /// same statement; on PostgreSQL the writer counts its own changes (as one sorted upsert per commit, which a row
    /// trigger on updates would turn into locks taken in row order mid-transaction, and count twice), so such a change
    /// is counted by the rebuild, as README says.
    /// </summary>
    [Fact]
    public async Task A_message_relabelled_by_hand_in_sql_is_counted_at_once_on_sqlite_and_by_the_rebuild_on_postgres()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = _app.Services.GetRequiredService<IFeedbackStore>();
        var written = await store.WriteAsync(Message(alerts: false), ct);
        var other = written.Record.Sentiment == "positive" ? "negative" : "positive";

        _app.Execute($"UPDATE feedback SET sentiment = '{other}', topic = 'billing' WHERE id = {written.Record.Id}");

        var (rows, rollups, daily, sentiments) = await ReadBothAsync();
        rows.Keys.ShouldContain(k => k.Contains($"|{other}|billing|", StringComparison.Ordinal));
        if (_app.Database is null)
        {
            rollups.ShouldBe(rows, ignoreOrder: true);
            daily.ShouldBe(Daily(rows), ignoreOrder: true);
            sentiments.ShouldBe(BySentiment(rows), ignoreOrder: true);
        }
        else
        {
            rollups.Keys.ShouldNotContain(k => k.Contains($"|{other}|billing|", StringComparison.Ordinal));
        }

        await using (var connection = Open())
        {
            (await RollupsSql.RebuildAsync(connection, ct)).ShouldBe(1);
        }

        var rebuilt = await ReadBothAsync();
        rebuilt.Rollups.ShouldBe(rows, ignoreOrder: true);
        rebuilt.Daily.ShouldBe(Daily(rows), ignoreOrder: true);
        rebuilt.Sentiments.ShouldBe(BySentiment(rows), ignoreOrder: true);
    }

    private DbConnection Open() => _app.Database is { } postgres ? postgres.Open() : _app.OpenDatabase();

    /// <summary>
    /// The full count, the hourly rollups and their two narrower sums (per day; per hour, sentiment and alert) in one
    /// snapshot, so that nothing the app does meanwhile falls between them; every key as "hour|sentiment|topic|method|alert".
    /// </summary>
    private async Task<(Dictionary<string, long> Rows, Dictionary<string, long> Rollups, Dictionary<string, long> Daily, Dictionary<string, long> Sentiments)> ReadBothAsync()
    {
        var postgres = _app.Database is not null;
        await using var connection = Open();
        await using var transaction = await connection.BeginTransactionAsync(postgres ? System.Data.IsolationLevel.RepeatableRead : System.Data.IsolationLevel.Serializable);
        var daily = postgres
            ? "SELECT to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups_daily WHERE count <> 0"
            : "SELECT day, sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups_daily WHERE count <> 0";
        var sentiments = postgres
            ? "SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), sentiment, '', '', alert_triggered, count FROM feedback_rollups_sentiment WHERE count <> 0"
            : "SELECT substr(hour, 1, 13), sentiment, '', '', alert_triggered, count FROM feedback_rollups_sentiment WHERE count <> 0";
        return (
            await ReadAsync(connection, transaction, RollupsSql.CountRowsSql(postgres)),
            await ReadAsync(connection, transaction, RollupsSql.ReadAllSql(postgres)),
            await ReadAsync(connection, transaction, daily),
            await ReadAsync(connection, transaction, sentiments));
    }

    /// <summary>The alerts counted by hour raised and state ("hour|state"), and the alert counters, in one snapshot.</summary>
    private async Task<(Dictionary<string, long> Alerts, Dictionary<string, long> Counters)> ReadAlertsAsync()
    {
        var postgres = _app.Database is not null;
        await using var connection = Open();
        await using var transaction = await connection.BeginTransactionAsync(postgres ? System.Data.IsolationLevel.RepeatableRead : System.Data.IsolationLevel.Serializable);
        var hour = postgres ? "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')" : "substr({0}, 1, 13)";
        async Task<Dictionary<string, long>> Read(string sql)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            while (await reader.ReadAsync())
            {
                counts[$"{reader.GetString(0)}|{reader.GetString(1)}"] = reader.GetInt64(2);
            }

            return counts;
        }

        return (
            await Read($"SELECT {string.Format(CultureInfo.InvariantCulture, hour, "created_at")}, state, count(*) FROM alerts GROUP BY 1, 2"),
            await Read($"SELECT {string.Format(CultureInfo.InvariantCulture, hour, "hour")}, state, count FROM alert_rollups WHERE count <> 0"));
    }

    /// <summary>The counts of <paramref name="rows"/> summed per day and key.</summary>
    private static Dictionary<string, long> Daily(Dictionary<string, long> rows) =>
        Sum(rows, k => k[..10] + k[13..]);

    /// <summary>The counts of <paramref name="rows"/> summed per hour, sentiment and alert.</summary>
    private static Dictionary<string, long> BySentiment(Dictionary<string, long> rows) =>
        Sum(rows, k => k.Split('|') is var p ? $"{p[0]}|{p[1]}|||{p[4]}" : k);

    private static Dictionary<string, long> Sum(Dictionary<string, long> rows, Func<string, string> key) =>
        rows.GroupBy(r => key(r.Key), StringComparer.Ordinal).Select(g => (g.Key, Count: g.Sum(r => r.Value))).Where(g => g.Count != 0)
            .ToDictionary(g => g.Key, g => g.Count, StringComparer.Ordinal);

    private static async Task<Dictionary<string, long>> ReadAsync(DbConnection connection, DbTransaction transaction, string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            var key = $"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetString(2)}|{reader.GetString(3)}|{(reader.GetBoolean(4) ? 1 : 0)}";
            counts[key] = reader.GetInt64(5);
        }

        return counts;
    }

    private void Remember(WriteResult result)
    {
        if (result.Outcome == WriteOutcome.Created)
        {
            _ids.Add(result.Record.Id);
        }
    }

    private long Pick() => _ids[_random.Next(_ids.Count)];

    private string Customer() => $"c-{_random.Next(12)}";

    private NewFeedback Message(bool alerts = true)
    {
        var alert = alerts && _random.Next(5) == 0;
        var n = _next++;

        // Keys from a small pool: some requests replay a stored one, some reuse it with other text.
        var key = _random.Next(4) == 0 ? $"k-{_random.Next(40)}" : null;
        var text = _random.Next(2) == 0 && key is not null ? $"Replayed text under {key}." : $"Message {n} about the product.";
        return new NewFeedback(
            new FeedbackRecord
            {
                Text = text,
                CustomerId = _random.Next(3) == 0 ? null : Customer(),
                Sentiment = Sentiments[_random.Next(4)],
                Topic = Topics[_random.Next(6)],
                Confidence = 0.9,
                ConfidenceScore = "high",
                ScorePositive = 0.25,
                ScoreNegative = 0.25,
                ScoreNeutral = 0.25,
                ScoreMixed = 0.25,
                AlertTriggered = alert,
                ProcessingMethod = Methods[_random.Next(3)],
                Language = "en",
                Model = "test",
                Status = "final",
                CreatedAt = Start.AddMinutes(_random.Next(60 * 50)).AddTicks(_random.Next(10_000_000) * 10L),
                IdempotencyKey = key,
                RequestHash = key is null ? null : "hash-of-" + text,
            },
            alert);
    }

    /// <summary>A new answer with other labels (most of the time), or only finalising it; some revisions find the row final and change nothing.</summary>
    private Revision Revise(long id)
    {
        var alert = _random.Next(4) == 0;
        var answer = _random.Next(8) == 0
            ? null
            : new FeedbackRecord
            {
                Text = "",
                Sentiment = Sentiments[_random.Next(4)],
                Topic = Topics[_random.Next(6)],
                Confidence = 0.8,
                ConfidenceScore = "medium",
                ScorePositive = 0.25,
                ScoreNegative = 0.25,
                ScoreNeutral = 0.25,
                ScoreMixed = 0.25,
                ProcessingMethod = Methods[_random.Next(2)],
                Model = "revised",
                Language = "en",
            };
        return new Revision(id, answer, alert, "reclassify", Start.AddHours(60).AddSeconds(_random.Next(1000)), ReplacesFinal: _random.Next(6) != 0);
    }
}

public sealed class RollupOnSqliteTests() : RollupTests(StoreKind.Sqlite);

public sealed class RollupOnPostgresTests() : RollupTests(StoreKind.Postgres);
