using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #23 item 4: RETENTION_DAYS purges the messages older than that (with their labels and alert rows, and their
/// words in the alert groups' summaries) in the background, keeps their counts in the rollups so /stats still shows those days, logs the count without any text and
/// counts it in feedback_retention_purged_messages_total, on each store.
/// </summary>
[Collection(typeof(MetricsCollection))]
public abstract class RetentionTests : IDisposable
{
    private const string Old = "The Wombatville export crashes every time, terrible, I lost all my data.";
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 9, 15, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FeedbackApp _app;

    protected RetentionTests(StoreKind store) =>
        _app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RETENTION_DAYS"] = "30",
            ["Logging:LogLevel:Feedback.Api.Operations.RetentionPurge"] = "Information",
        }, time: _time, store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Messages_older_than_the_retention_are_purged_and_their_counts_stay_in_the_stats()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = _app.Client();
        var old = new List<long>();
        foreach (var text in new[] { Old, "I love the new reports page, it is wonderful.", "ok" })
        {
            var response = await client.PostFeedbackAsync(new { text });
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
            old.Add((await response.JsonAsync()).GetProperty("id").GetInt64());
        }

        (await client.PutAsJsonAsync(new Uri($"/feedback/{old[0]}/label", UriKind.Relative), new { sentiment = "negative", topic = "bug" }, ct))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        _app.Scalar("SELECT count(*) FROM alerts").ShouldBeGreaterThan(0);

        // The complaint opened an alert group, whose summary quotes it.
        _app.Scalar("SELECT count(*) FROM alert_groups WHERE summary LIKE '%Wombatville%'").ShouldBe(1);

        // A provisional answer may still be revised in the background: the day's stats are read once every answer is final.
        for (var attempt = 0; attempt < 600 && _app.Scalar("SELECT count(*) FROM feedback WHERE status = 'provisional'") > 0; attempt++)
        {
            await Task.Delay(50, ct);
        }

        var before = await StatsAsync(client);
        before.GetProperty("total").GetInt64().ShouldBe(3);

        // Past the retention the hourly purge finds them (time moves on an hour at a time until it has run).
        _time.Advance(TimeSpan.FromDays(31));
        for (var attempt = 0; attempt < 600 && _app.Scalar("SELECT count(*) FROM feedback") > 0; attempt++)
        {
            _time.Advance(TimeSpan.FromHours(1));
            await Task.Delay(50, ct);
        }

        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
        _app.Scalar("SELECT count(*) FROM labels").ShouldBe(0);
        _app.Scalar("SELECT count(*) FROM alerts").ShouldBe(0);

        // No word of a purged message is left: the group stays, its summary says why the words are gone.
        _app.Scalar("SELECT count(*) FROM alert_groups WHERE summary LIKE '%Wombatville%' OR summary LIKE '%export crashes%'").ShouldBe(0);
        _app.Scalar($"SELECT count(*) FROM alert_groups WHERE summary = '{Feedback.Storage.CustomerErasure.PurgedExcerpt}'").ShouldBe(1);
        (await client.GetAsync(new Uri($"/feedback/{old[0]}", UriKind.Relative), ct)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // A new message stays; the purged day still counts its three in /stats.
        (await client.PostFeedbackAsync(new { text = "A new message about the product, after the purge." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
        var after = await StatsAsync(client);
        foreach (var property in new[] { "total", "sentiment", "topic", "processing_method", "series" })
        {
            after.GetProperty(property).GetRawText().ShouldBe(before.GetProperty(property).GetRawText(), property);
        }

        after.GetProperty("alerts").GetProperty("triggered").GetInt64().ShouldBe(before.GetProperty("alerts").GetProperty("triggered").GetInt64());

        // A rebuild counts the stored message again and keeps the purged hours, which no row can be counted from.
        await using (System.Data.Common.DbConnection connection = _app.Database is { } postgres ? postgres.Open() : _app.OpenDatabase())
        {
            (await Feedback.Storage.RollupsSql.RebuildAsync(connection, ct)).ShouldBe(1);
        }

        (await StatsAsync(client)).GetProperty("total").GetRawText().ShouldBe(before.GetProperty("total").GetRawText());

        var scrape = PrometheusText.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct));
        scrape.Sum("feedback_retention_purged_messages_total").ShouldBe(3);
        _app.Logs.Events.ShouldContain(e => e.Text.Contains("Retention purged 3 messages", StringComparison.Ordinal));
        _app.Logs.Events.ShouldNotContain(e => e.Text.Contains("Wombatville", StringComparison.Ordinal));
    }

    private static async Task<System.Text.Json.JsonElement> StatsAsync(HttpClient client) =>
        await (await client.GetAsync(new Uri("/stats?bucket=day&from=2026-10-01&to=2026-10-02", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
}

public sealed class RetentionOnSqliteTests() : RetentionTests(StoreKind.Sqlite);

public sealed class RetentionOnPostgresTests() : RetentionTests(StoreKind.Postgres);
