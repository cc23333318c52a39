using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Two instances of the API sharing one PostgreSQL database, as behind a load balancer: writes, idempotency and
/// background work (alert delivery) behave as one service, also when an instance stops half-way.
/// </summary>
public sealed class MultiInstanceTests : IAsyncLifetime
{
    private readonly List<FeedbackApp> _apps = [];
    private PostgresDatabase _database = null!;
    private RecordingReceiver _slack = null!;

    public async ValueTask InitializeAsync()
    {
        _database = PostgresDatabase.Create();
        _slack = await RecordingReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _slack.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task A_thousand_alerts_across_two_instances_are_each_delivered_once_while_one_stops_half_way()
    {
        var first = Start();
        var second = Start();
        var texts = Complaints().ToList();

        // The first half goes to both instances, as a load balancer spreads it.
        await PostAsync(texts.Take(500), i => i % 2 == 0 ? first : second);

        // Stop one instance while deliveries are still going out: what it claimed but had not sent goes back to the other.
        await _slack.WaitForAsync(requests => requests.Count >= 50);
        await first.DisposeAsync();
        _apps.Remove(first);
        var sentBeforeStop = _slack.Requests.Count;
        await PostAsync(texts.Skip(500), _ => second);

        await WaitUntilAsync(() => second.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state <> 'delivered'") == 0);
        var deliveries = second.Scalar("SELECT COUNT(*) FROM alert_deliveries");

        var alerts = second.Scalar("SELECT COUNT(*) FROM alerts");
        var keys = _slack.Accepted.Select(r => r.Json["blocks"]![3]!.ToJsonString()).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"alerts {alerts}, groups {second.Scalar("SELECT COUNT(*) FROM alert_groups")}, deliveries {deliveries}, " +
            $"sent before the stop {sentBeforeStop}, accepted {keys.Count}, distinct {keys.Distinct().Count()}");

        alerts.ShouldBe(1000);
        sentBeforeStop.ShouldBeLessThan((int)deliveries, "the stop came before every alert had gone out");
        keys.Count.ShouldBe((int)deliveries);
        keys.Distinct().Count().ShouldBe(keys.Count);
        second.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE claimed_by IS NOT NULL").ShouldBe(0);
    }

    [Fact]
    public async Task Two_instances_posting_critical_complaints_at_once_share_one_paging_budget()
    {
        await using var pagerDuty = await RecordingReceiver.StartAsync();
        (string, string)[] paging =
        [
            ("PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789012345678901"), ("PAGERDUTY_URL", pagerDuty.Url.ToString()),
            ("ALERT_PAGES_PER_HOUR", "3"), ("ALERT_GROUP_WINDOW_SECONDS", "600"),
        ];
        var first = Start(paging);
        var second = Start(paging);

        await Task.WhenAll(AlertTests.CriticalComplaints.Select((text, i) => (i % 2 == 0 ? first : second).Client().PostFeedbackAsync(new { text })));
        await pagerDuty.WaitForAsync(r => r.Count >= 3);
        await WaitUntilAsync(() => second.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE channel = 'pagerduty' AND state = 'pending' AND kind = 'initial'") == 0);

        pagerDuty.Requests.Count.ShouldBe(3);
        second.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE channel = 'pagerduty' AND kind = 'initial' AND state = 'held'")
            .ShouldBe(AlertTests.CriticalComplaints.Length - 3);
        second.Scalar("SELECT count FROM alert_groups WHERE kind = 'page_budget'").ShouldBe(AlertTests.CriticalComplaints.Length - 3);
    }

    [Fact]
    public async Task A_dead_instances_claim_is_taken_over_when_its_lease_ends_and_a_live_claim_is_left_alone()
    {
        var app = Start(("ALERT_POLL_SECONDS", "0.2"));
        using (var connection = _database.Open())
        {
            // Two due deliveries claimed by instances that are not running: one lease has ended, one lasts an hour.
            using var command = new Npgsql.NpgsqlCommand(
                """
                INSERT INTO alert_groups (id, kind, topic, severity, fingerprint, first_at, last_at, count, state, summary)
                VALUES (901, 'feedback', 'bug', 'high', 1, now(), now(), 1, 'open', 'left by a dead instance'),
                       (902, 'feedback', 'bug', 'high', 2, now(), now(), 1, 'open', 'held by a live instance');
                INSERT INTO alert_deliveries (group_id, kind, channel, state, attempts, next_attempt_at, created_at, claimed_by, lease_until)
                VALUES (901, 'initial', 'slack', 'pending', 0, now(), now(), 'dead-host', now() - interval '1 second'),
                       (902, 'initial', 'slack', 'pending', 0, now(), now(), 'live-host', now() + interval '1 hour');
                """,
                connection);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await _slack.WaitForAsync(requests => requests.Count >= 1);

        // A fresh message's alert is claimed and sent by the same poll loop after both rows were seen.
        await app.Client().PostFeedbackAsync(new { text = "The export crashes every single time and I lost a day of work. Awful." });
        await _slack.WaitForAsync(requests => requests.Count >= 2);

        var groups = _slack.Accepted.Select(r => r.Json["blocks"]![3]!.ToJsonString()).ToList();
        groups.Count(g => g.Contains("alert-901-initial", StringComparison.Ordinal)).ShouldBe(1);
        groups.ShouldNotContain(g => g.Contains("alert-902-initial", StringComparison.Ordinal));
        app.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE group_id = 902 AND state = 'pending' AND claimed_by = 'live-host'").ShouldBe(1);
    }

    [Fact]
    public async Task The_same_idempotency_key_sent_to_both_instances_at_once_stores_one_row_and_one_alert()
    {
        var first = Start().Client();
        var second = Start().Client();
        const string Text = "I was charged twice this month and support never answers, I want my money back.";

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? first : second).PostFeedbackAsync(new { text = Text }, "pay-42")));

        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        var ids = new HashSet<long>();
        foreach (var response in responses)
        {
            ids.Add((await response.JsonAsync()).GetProperty("id").GetInt64());
        }

        ids.Count.ShouldBe(1);
        _apps[0].Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
        _apps[0].Scalar("SELECT COUNT(*) FROM alerts").ShouldBe(1);
    }

    [Fact]
    public async Task A_message_written_through_one_instance_is_read_through_the_other()
    {
        var writer = Start().Client();
        var reader = Start().Client();

        var created = await (await writer.PostFeedbackAsync(new { text = "Search is painfully slow since the last update." })).JsonAsync();
        var read = await reader.GetAsync(new Uri($"/feedback/{created.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken);

        read.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await read.JsonAsync()).Str("topic").ShouldBe(created.Str("topic"));
    }

    [Fact]
    public async Task Provisional_answers_left_by_a_stopped_instance_are_revised_once_by_the_others_after_its_lease()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        (string, string)[] ai = [("OPENAI_BASE_URL", llm.BaseUrl.ToString()), ("OPENAI_API_KEY", "sk-test"), ("OPENAI_MODEL", "test-model"),
            ("AI_DEADLINE_MS", "50"), ("AI_TIMEOUT_MS", "120000"), ("AI_SWEEP_SECONDS", "1")];

        // The LLM never answers while the first instance takes six messages: each is stored provisional and held by it
        // while its call runs; it stops with every call still running, leaving the rows to the others. The timeout is
        // minutes, not seconds, so no call of the stopped instance can time out and settle a row with the local answer
        // before the others revise it, however slowly a busy machine starts them.
        llm.Reply = _ => new FakeReply.Gated(new TaskCompletionSource(), FakeReply.Labels("negative", "ux", 0.9));
        var first = Start(ai);
        var client = first.Client();
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var body = await (await client.PostFeedbackAsync(new { text = $"The new settings page is confusing, I cannot find anything ({i})." })).JsonAsync();
            body.Str("status").ShouldBe("provisional");
            ids.Add(body.GetProperty("id").GetInt64());
        }

        await first.DisposeAsync();
        _apps.Remove(first);
        var asked = llm.Requests.Count;
        llm.Reply = _ => FakeReply.Labels("negative", "ux", 0.9);
        var second = Start(ai);
        var third = Start(ai);
        _ = third.Client();

        await WaitUntilAsync(() => second.Scalar("SELECT COUNT(*) FROM feedback WHERE status = 'provisional'") == 0);

        second.Scalar("SELECT COUNT(*) FROM feedback_revisions").ShouldBe(ids.Count);
        second.Scalar("SELECT COUNT(*) FROM feedback WHERE processing_method = 'ai' AND topic = 'ux'").ShouldBe(ids.Count);
        (llm.Requests.Count - asked).ShouldBe(ids.Count, "each row is asked about by one instance");
    }

    /// <summary>1,000 different complaints (10 areas x 10 problems x 10 feelings).</summary>
    private static IEnumerable<string> Complaints()
    {
        string[] areas = ["export", "login page", "search", "calendar sync", "invoice page", "photo upload", "dark mode", "checkout", "notifications", "settings screen"];
        string[] problems = ["crashes the whole app", "throws an error", "freezes my phone", "loses my changes", "shows a blank screen", "logs me out", "eats my battery", "charges my card twice", "deletes my files", "hangs forever"];
        string[] feelings = ["Terrible.", "I am furious.", "Unacceptable!", "So frustrating.", "Worst update ever.", "Fix it now.", "I want a refund.", "This is awful.", "Completely broken.", "I am done with this."];
        return from a in areas from p in problems from f in feelings select $"The {a} {p} every time I use it. {f}";
    }

    /// <summary>Waits (without timing anything) for what the background work must reach; a generous bound only ends a hung test.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 3000; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The instances never finished what the test waited for.");
    }

    private static async Task PostAsync(IEnumerable<string> texts, Func<int, FeedbackApp> route)
    {
        var clients = new Dictionary<FeedbackApp, HttpClient>();
        var numbered = texts.Select((text, i) => (Text: text, App: route(i))).ToList();
        foreach (var app in numbered.Select(n => n.App).Distinct())
        {
            clients[app] = app.Client();
        }

        await Parallel.ForEachAsync(numbered, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) =>
        {
            var response = await clients[item.App].PostFeedbackAsync(new { text = item.Text });
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
        });
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
            ["ALERT_SEND_INTERVAL_MS"] = "10",
            ["ALERT_POLL_SECONDS"] = "0.5",

            // Every complaint is an alert of its own (no two fingerprints match exactly), and a summary of a group that
            // does form falls due a second later: all of them go out within the test.
            ["ALERT_SENTIMENTS"] = "negative,mixed,neutral,positive",
            ["ALERT_MIN_CONFIDENCE"] = "low",
            ["ALERT_SIMILARITY_BITS"] = "0",
            ["ALERT_GROUP_WINDOW_SECONDS"] = "1",
            ["SPIKE_MIN_COUNT"] = "100000",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new FeedbackApp(_database, all);
        _apps.Add(app);
        _ = app.Server;
        return app;
    }
}
