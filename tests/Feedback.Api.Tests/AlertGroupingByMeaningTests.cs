using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #19 item 5: alerts grouped by meaning on the real encoder. Two restatements of one complaint that share too few
/// words for the words' SimHash (18 of 64 bits apart; 3 of 63 by meaning, bench/grouping/) form one group on either
/// store and across two instances sharing Redis; grouping by words keeps them apart, as before.
/// </summary>
public sealed class AlertGroupingByMeaningTests : IAsyncDisposable
{
    private const string First = "The app crashes when I open settings.";
    private const string Restated = "The app crashes every single time I open the settings screen.";

    private readonly List<FeedbackApp> _apps = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(StoreKind.Sqlite, "meaning", 1)]
    [InlineData(StoreKind.Postgres, "meaning", 1)]
    [InlineData(StoreKind.Sqlite, "words", 2)]
    public async Task Two_restatements_of_one_complaint_form_one_group_by_meaning_and_two_by_words(StoreKind store, string groupBy, int groups)
    {
        var app = await StartAsync(new(StringComparer.Ordinal) { ["ALERT_GROUP_BY"] = groupBy }, store);

        var topics = new List<string>();
        foreach (var text in new[] { First, Restated })
        {
            var body = await (await app.Client().PostFeedbackAsync(new { text })).JsonAsync();
            body.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue(text);
            topics.Add(body.Str("topic"));
        }

        topics.Distinct().Count().ShouldBe(1, "grouping is within a topic: both must be read as one");
        app.Scalar("SELECT COUNT(*) FROM alert_groups").ShouldBe(groups);
        app.Scalar("SELECT MAX(count) FROM alert_groups").ShouldBe(3 - groups);
    }

    [Fact]
    public async Task Restatements_posted_to_two_instances_sharing_redis_form_one_shared_group()
    {
        Dictionary<string, string> shared = new(StringComparer.Ordinal)
        {
            ["REDIS_URL"] = TestRedis.Url(),
            ["REDIS_KEY_PREFIX"] = TestRedis.NewPrefix(),
        };
        var first = await StartAsync(shared, StoreKind.Sqlite);
        var second = await StartAsync(shared, StoreKind.Sqlite);

        (await first.Client().PostFeedbackAsync(new { text = First })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await second.Client().PostFeedbackAsync(new { text = Restated })).StatusCode.ShouldBe(HttpStatusCode.Created);

        // Each instance's own store holds one row of the group Redis agreed on; the second one's row counts both.
        first.Scalar("SELECT COUNT(*) FROM alert_groups").ShouldBe(1);
        second.Scalar("SELECT COUNT(*) FROM alert_groups").ShouldBe(1);
        DedupKey(first).ShouldStartWith("shared:");
        DedupKey(second).ShouldBe(DedupKey(first));
        second.Scalar("SELECT count FROM alert_groups").ShouldBe(2);
    }

    private static string DedupKey(FeedbackApp app)
    {
        using var connection = app.OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT dedup_key FROM alert_groups";
        return (string)command.ExecuteScalar()!;
    }

    private async Task<FeedbackApp> StartAsync(Dictionary<string, string> settings, StoreKind store)
    {
        // A generous budget: every answer is the deep one, with its sentence vector.
        settings["CLASSIFIER"] = "deep";
        settings["DEEP_DEADLINE_MS"] = "10000";
        var app = new FeedbackApp(settings, store: store);
        _apps.Add(app);
        await app.WaitForEncoderAsync();
        return app;
    }
}
