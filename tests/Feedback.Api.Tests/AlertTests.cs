using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Storage.Alerts;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Alert delivery against real webhook receivers on loopback, with a fake clock for windows and back-off, on each store:
/// the alert rows, their groups and the delivery queue live in the store.
/// </summary>
public abstract class AlertTests(StoreKind store) : IAsyncLifetime
{
    private static readonly string[] Complaints =
    [
        "The app crashes every time I upload a photo and I lost my whole album.",
        "I was charged twice for my subscription this month, I want a refund now.",
        "The dashboard takes forever to load, it is painfully slow since the update.",
        "I cannot find the export button anywhere, this new layout is confusing and awful.",
        "Login fails with an error code every single morning, terrible experience.",
    ];

    /// <summary>Twenty critical complaints, each its own group: no two share enough words to be the same complaint.</summary>
    internal static readonly string[] CriticalComplaints =
    [
        "Total outage since nine, nothing loads and my team is furious.",
        "Security hole: anyone can open invoices of other companies, terrible.",
        "I was charged twice for March and nobody answers my emails, unacceptable.",
        "Your servers are down for everyone in Berlin, awful morning.",
        "Data loss after the upgrade: every project file vanished, horrible.",
        "Someone hacked my profile and changed the password, this is scary and bad.",
        "Double charged on my credit card again, the worst billing ever.",
        "The mobile site is down and customers cannot pay, a disaster.",
        "A breach exposed our contacts list, angry and disappointed.",
        "Sync wiped my calendar completely, hateful experience.",
        "Leaked API tokens are visible in the public page source, dreadful.",
        "Unauthorized purchases appeared in our workspace overnight, awful.",
        "Charged three times for one seat, fix this terrible mess.",
        "The service down page has shown for six hours, pathetic uptime.",
        "A vulnerability lets guests delete admin comments, horrible design.",
        "I see someone else's account dashboard after login, frightening bug.",
        "Deleted all my photos without asking, I hate this update.",
        "Printer integration outage again this week, useless and broken.",
        "Customer records leaked to a partner mailing list, disgusting.",
        "Bank statement shows charged two times for renewal, angry customer.",
    ];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly List<FeedbackApp> _apps = [];
    private RecordingReceiver _slack = null!;

    public async ValueTask InitializeAsync() => _slack = await RecordingReceiver.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _slack.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_complaint_reaches_slack_once_as_a_readable_block_kit_message()
    {
        var app = Start(("PUBLIC_URL", "https://feedback.example.test"));

        var body = await (await app.Client().PostFeedbackAsync(new { text = Complaints[0] })).JsonAsync();
        await _slack.WaitForAsync(r => r.Count == 1);
        await DeliveredAsync(app, 1);

        var message = _slack.Requests.ShouldHaveSingleItem().Json;
        var id = body.GetProperty("id").GetInt64();
        message["text"]!.GetValue<string>().ShouldContain($"feedback {id}");
        var blocks = message["blocks"]!.AsArray();
        blocks[0]!["type"]!.GetValue<string>().ShouldBe("header");
        var fields = string.Join("\n", blocks[1]!["fields"]!.AsArray().Select(f => f!["text"]!.GetValue<string>()));
        fields.ShouldContain("*Sentiment*");
        fields.ShouldContain("*Topic*\nbug");
        fields.ShouldContain("*Confidence*");
        fields.ShouldContain("*Severity*\nhigh");
        blocks[2]!["text"]!["text"]!.GetValue<string>().ShouldContain("crashes every time I upload a photo");
        blocks[3]!.ToJsonString().ShouldContain($"feedback {id}");
        blocks[3]!.ToJsonString().ShouldContain("alert-");
        blocks[4]!["elements"]![0]!["url"]!.GetValue<string>().ShouldBe($"https://feedback.example.test/feedback/{id}");
        _slack.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task An_excerpt_is_at_most_300_characters_and_customer_markup_is_escaped()
    {
        var app = Start();
        var text = "<!channel> The app crashes every time I open it & I lost all my work, <https://evil.test|click>. Terrible! " + new string('x', 500);

        await app.Client().PostFeedbackAsync(new { text });
        await _slack.WaitForAsync(r => r.Count == 1);

        var excerpt = _slack.Requests[0].Json["blocks"]![2]!["text"]!["text"]!.GetValue<string>();
        excerpt.ShouldNotContain("<!channel>");
        excerpt.ShouldContain("&lt;!channel&gt;");
        excerpt.Length.ShouldBeLessThanOrEqualTo(2 + 300 + 40);
    }

    [Fact]
    public async Task Slack_down_for_a_while_then_back_gets_every_alert_exactly_once()
    {
        _slack.Answer = () => new ReceiverAnswer(503);
        var app = Start();
        foreach (var text in Complaints)
        {
            (await app.Client().PostFeedbackAsync(new { text })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // Slack refuses every attempt for five minutes of (fake) time.
        await _slack.WaitForAsync(r => r.Count >= Complaints.Length, () => AdvanceAsync(TimeSpan.FromSeconds(2)));
        for (var i = 0; i < 30; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(10));
        }

        _slack.Accepted.ShouldBeEmpty();
        _slack.Answer = () => ReceiverAnswer.Ok;
        await _slack.WaitForAsync(r => AcceptedKeys(r).Count == Complaints.Length, () => AdvanceAsync(TimeSpan.FromSeconds(30)));
        await DeliveredAsync(app, Complaints.Length);

        var keys = AcceptedKeys(_slack.Requests);
        keys.Count.ShouldBe(Complaints.Length);
        keys.Distinct().Count().ShouldBe(Complaints.Length);
        var alerts = await AlertsAsync(app);
        alerts.ShouldAllBe(g => g.GetProperty("deliveries")[0].GetProperty("attempts").GetInt32() > 1);
    }

    [Fact]
    public async Task An_alert_pending_at_a_restart_is_delivered_after_it()
    {
        _slack.Answer = () => new ReceiverAnswer(500);
        var app = Start();
        await app.Client().PostFeedbackAsync(new { text = Complaints[1] });
        await _slack.WaitForAsync(r => r.Count >= 1);

        var restarted = app.Restart();
        _apps.Add(restarted);
        _slack.Answer = () => ReceiverAnswer.Ok;
        restarted.Client();
        await _slack.WaitForAsync(r => r.Any(x => x.Status == 200), () => AdvanceAsync(TimeSpan.FromSeconds(5)));
        await DeliveredAsync(restarted, 1);

        _slack.Accepted.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_429_is_retried_no_sooner_than_its_retry_after()
    {
        var refuse = true;
        _slack.Answer = () => refuse ? new ReceiverAnswer(429, RetryAfterSeconds: 120) : ReceiverAnswer.Ok;
        var app = Start();
        await app.Client().PostFeedbackAsync(new { text = Complaints[2] });
        await _slack.WaitForAsync(r => r.Count == 1);
        refuse = false;

        await AdvanceAsync(TimeSpan.FromSeconds(100));
        await Task.Delay(300, TestContext.Current.CancellationToken);
        _slack.Requests.Count.ShouldBe(1);

        await _slack.WaitForAsync(r => r.Count == 2, () => AdvanceAsync(TimeSpan.FromSeconds(10)));
        _slack.Requests[1].Status.ShouldBe(200);
    }

    [Fact]
    public async Task Ten_similar_crash_reports_in_a_minute_send_one_message_and_one_summary()
    {
        var app = Start();
        var client = app.Client();
        for (var i = 1; i <= 10; i++)
        {
            await client.PostFeedbackAsync(new { text = $"The app crashes every time I open the camera, so frustrating (report {i})." });
            _time.Advance(TimeSpan.FromSeconds(5));
        }

        await _slack.WaitForAsync(r => r.Count >= 1);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        _slack.Requests.Count.ShouldBe(1);

        await _slack.WaitForAsync(r => r.Count >= 2, () => AdvanceAsync(TimeSpan.FromMinutes(1)));
        await Task.Delay(300, TestContext.Current.CancellationToken);

        _slack.Requests.Count.ShouldBe(2);
        var summary = _slack.Requests[1].Json["blocks"]![0]!["text"]!["text"]!.GetValue<string>();
        summary.ShouldBe("+9 similar bug alerts in 10 min");
        var group = (await AlertsAsync(app)).ShouldHaveSingleItem();
        group.GetProperty("count").GetInt32().ShouldBe(10);
        group.GetProperty("feedback_ids").GetArrayLength().ShouldBe(10);
        group.GetProperty("severity").GetString().ShouldBe("critical");
    }

    [Fact]
    public async Task Similar_complaints_committed_together_leave_the_same_group_and_outbox_as_one_by_one()
    {
        // The writer holds a group joined several times in one commit, and the deliveries it already has, in memory
        // until the commit: the stored group and outbox must be what one commit per message leaves.
        await using var pagerDuty = await RecordingReceiver.StartAsync();
        (string, string)[] paging = [("PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789012345678901"), ("PAGERDUTY_URL", pagerDuty.Url.ToString())];
        var oneByOne = Start(paging);
        var together = Start(paging);
        var reports = Enumerable.Range(1, 10)
            .Select(i => new { text = $"The app crashes every time I open the camera, so frustrating (report {i})." }).ToList();

        foreach (var report in reports)
        {
            (await oneByOne.Client().PostFeedbackAsync(report)).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var batch = await together.Client().PostAsJsonAsync(
            new Uri("/feedback/batch", UriKind.Relative), new { items = reports }, TestContext.Current.CancellationToken);
        batch.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await batch.JsonAsync()).GetProperty("created").GetInt32().ShouldBe(10);

        var expected = await GroupAsync(oneByOne);
        expected.Count.ShouldBe(10);
        expected.Alerts.ShouldBe(10);
        expected.Severity.ShouldBe("critical");
        expected.Deliveries.ShouldContain("pagerduty/initial");
        expected.Deliveries.ShouldContain("slack/summary");
        (await GroupAsync(together)).ShouldBe(expected);

        // A later commit joins the same group again: its row moves on, and no delivery is queued twice.
        _time.Advance(TimeSpan.FromSeconds(5));
        var later = new { text = "The app crashes every time I open the camera, so frustrating (report 11)." };
        (await oneByOne.Client().PostFeedbackAsync(later)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await together.Client().PostFeedbackAsync(later)).StatusCode.ShouldBe(HttpStatusCode.Created);

        var afterOne = await GroupAsync(oneByOne);
        afterOne.Count.ShouldBe(11);
        afterOne.LastAt.ShouldBe(_time.GetUtcNow().UtcDateTime);
        afterOne.Deliveries.ShouldBe(expected.Deliveries);
        (await GroupAsync(together)).ShouldBe(afterOne);

        static async Task<GroupState> GroupAsync(FeedbackApp app)
        {
            var group = (await AlertsAsync(app)).ShouldHaveSingleItem();
            return new GroupState(
                group.GetProperty("count").GetInt32(),
                group.GetProperty("feedback_ids").GetArrayLength(),
                group.Str("severity"),
                group.GetProperty("first_at").GetDateTime(),
                group.GetProperty("last_at").GetDateTime(),
                string.Join(", ", group.GetProperty("deliveries").EnumerateArray().Select(d => $"{d.Str("channel")}/{d.Str("kind")}").Order(StringComparer.Ordinal)));
        }
    }

    [Fact]
    public async Task Different_complaints_are_not_grouped()
    {
        var app = Start();

        (await (await app.Client().PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so frustrating." })).JsonAsync()).GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        (await (await app.Client().PostFeedbackAsync(new { text = "Sync deletes my calendar events and the widget crashes at night." })).JsonAsync()).GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();

        (await AlertsAsync(app)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Requests_to_one_receiver_are_at_least_the_send_interval_apart()
    {
        var app = Start(("ALERT_SEND_INTERVAL_MS", "1000"));
        foreach (var text in Complaints.Take(3))
        {
            await app.Client().PostFeedbackAsync(new { text });
        }

        await _slack.WaitForAsync(r => r.Count >= 1);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        _slack.Requests.Count.ShouldBe(1);

        // The clock moves one interval in all, in small steps: a slow second send must not let the loop move it
        // on far enough to allow a third.
        var advanced = TimeSpan.Zero;
        await _slack.WaitForAsync(r => r.Count >= 2, async () =>
        {
            if (advanced < TimeSpan.FromMilliseconds(1000))
            {
                advanced += TimeSpan.FromMilliseconds(100);
                await AdvanceAsync(TimeSpan.FromMilliseconds(100));
            }
        });
        await Task.Delay(200, TestContext.Current.CancellationToken);
        _slack.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task The_generic_webhook_is_signed_as_standard_webhooks_says()
    {
        await using var hook = await RecordingReceiver.StartAsync();
        var secretBytes = RandomNumberGenerator.GetBytes(24);
        var secret = "whsec_" + Convert.ToBase64String(secretBytes);
        var app = Start(("SLACK_WEBHOOK_URL", ""), ("ALERT_WEBHOOK_URL", hook.Url.ToString()), ("ALERT_WEBHOOK_SECRET", secret));

        var body = await (await app.Client().PostFeedbackAsync(new { text = Complaints[1] })).JsonAsync();
        await hook.WaitForAsync(r => r.Count == 1);

        var request = hook.Requests[0];
        var id = request.Headers["webhook-id"];
        var timestamp = request.Headers["webhook-timestamp"];
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(secretBytes, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{request.Body}")));
        request.Headers["webhook-signature"].Split(' ').ShouldContain(expected);
        Math.Abs(long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture) - _time.GetUtcNow().ToUnixTimeSeconds()).ShouldBeLessThanOrEqualTo(5);
        request.Json["type"]!.GetValue<string>().ShouldBe("alert.created");
        request.Json["data"]!["feedback_ids"]![0]!.GetValue<long>().ShouldBe(body.GetProperty("id").GetInt64());
        _slack.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_critical_group_pages_pagerduty_with_an_events_v2_trigger_and_resolve()
    {
        await using var pagerDuty = await RecordingReceiver.StartAsync();
        var app = Start(("PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789012345678901"), ("PAGERDUTY_URL", pagerDuty.Url.ToString()));

        await app.Client().PostFeedbackAsync(new { text = "Your whole site is down for everyone, a total outage since 9am and we cannot work." });
        await app.Client().PostFeedbackAsync(new { text = Complaints[4] });
        await pagerDuty.WaitForAsync(r => r.Count == 1);
        await _slack.WaitForAsync(r => r.Count == 2);

        var trigger = pagerDuty.Requests[0].Json;
        trigger["routing_key"]!.GetValue<string>().ShouldBe("R0UT1NGKEY0123456789012345678901");
        trigger["event_action"]!.GetValue<string>().ShouldBe("trigger");
        var dedupKey = trigger["dedup_key"]!.GetValue<string>();
        dedupKey.ShouldNotBeNullOrWhiteSpace();
        var payload = trigger["payload"]!;
        payload["summary"]!.GetValue<string>().Length.ShouldBeInRange(1, 1024);
        payload["source"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        payload["severity"]!.GetValue<string>().ShouldBe("critical");
        DateTimeOffset.Parse(payload["timestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(_time.GetUtcNow(), TimeSpan.FromMinutes(1));

        var critical = (await AlertsAsync(app)).Single(g => g.GetProperty("severity").GetString() == "critical");
        var resolve = await app.Client().PostAsync(new Uri($"/alerts/{critical.GetProperty("id").GetInt64()}/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        resolve.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await resolve.JsonAsync()).GetProperty("state").GetString().ShouldBe("resolved");
        await pagerDuty.WaitForAsync(r => r.Count == 2);

        var resolved = pagerDuty.Requests[1].Json;
        resolved["event_action"]!.GetValue<string>().ShouldBe("resolve");
        resolved["dedup_key"]!.GetValue<string>().ShouldBe(dedupKey);
        resolved["routing_key"]!.GetValue<string>().ShouldBe("R0UT1NGKEY0123456789012345678901");
    }

    [Fact]
    public async Task Match_rules_page_for_a_listed_customer_and_never_for_an_app_store_review()
    {
        await using var pagerDuty = await RecordingReceiver.StartAsync();
        var rules = System.Text.Json.Nodes.JsonNode.Parse(
            typeof(SeverityRules).Assembly.GetManifestResourceStream("Feedback.Storage.alert-rules.json")!)!.AsObject();
        rules["match_rules"] = System.Text.Json.Nodes.JsonNode.Parse(
            """[{"if": {"customer_id": ["c-vip-1", "c-vip-2"]}, "at_least": "critical"}, {"if": {"source": "app_store"}, "at_most": "medium"}]""");
        var path = Path.Combine(Path.GetTempPath(), $"feedback-rules-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, rules.ToJsonString(), TestContext.Current.CancellationToken);
        try
        {
            var app = Start(
                ("ALERT_RULES_FILE", path), ("PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789012345678901"), ("PAGERDUTY_URL", pagerDuty.Url.ToString()));

            await app.Client().PostFeedbackAsync(new { text = "Your whole site is down for everyone, a total outage since 9am and we cannot work.", source = "app_store" });
            var vip = await (await app.Client().PostFeedbackAsync(new { text = Complaints[2], customer_id = "c-vip-2" })).JsonAsync();
            await _slack.WaitForAsync(r => r.Count == 2);
            await pagerDuty.WaitForAsync(r => r.Count == 1);
            await DeliveredAsync(app, 3);

            var groups = await AlertsAsync(app);
            groups.Count.ShouldBe(2);
            var paged = groups.Single(g => g.GetProperty("severity").GetString() == "critical");
            paged.GetProperty("topic").GetString().ShouldBe(vip.GetProperty("topic").GetString());
            groups.Single(g => g.GetProperty("id").GetInt64() != paged.GetProperty("id").GetInt64()).GetProperty("severity").GetString().ShouldBe("medium");
            pagerDuty.Requests.Count.ShouldBe(1);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Past_the_paging_budget_critical_groups_page_once_more_as_a_summary_and_slack_still_gets_each()
    {
        await using var pagerDuty = await RecordingReceiver.StartAsync();
        var app = Start(
            ("PAGERDUTY_ROUTING_KEY", "R0UT1NGKEY0123456789012345678901"), ("PAGERDUTY_URL", pagerDuty.Url.ToString()), ("ALERT_PAGES_PER_HOUR", "3"));

        foreach (var text in CriticalComplaints)
        {
            (await app.Client().PostFeedbackAsync(new { text })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var critical = (await AlertsAsync(app, "?limit=200")).Where(g => g.GetProperty("severity").GetString() == "critical").ToList();
        critical.Count.ShouldBe(CriticalComplaints.Length + 1, "one group per complaint, and the budget's summary group");
        await _slack.WaitForAsync(r => r.Count == CriticalComplaints.Length);
        await pagerDuty.WaitForAsync(r => r.Count == 3);

        // The summary goes out an hour after the first page the budget held; nothing else pages meanwhile.
        await pagerDuty.WaitForAsync(r => r.Count == 4, () => AdvanceAsync(TimeSpan.FromMinutes(5)));
        await AdvanceAsync(TimeSpan.FromMinutes(10));

        pagerDuty.Requests.Count.ShouldBe(4);
        pagerDuty.Requests.ShouldAllBe(r => r.Json["event_action"]!.GetValue<string>() == "trigger");
        pagerDuty.Requests[3].Json["payload"]!["summary"]!.GetValue<string>().ShouldStartWith($"{CriticalComplaints.Length - 3} more critical alerts in the last hour");
        _slack.Requests.Count.ShouldBe(CriticalComplaints.Length);
    }

    [Fact]
    public async Task Without_any_channel_the_alert_is_logged_and_marked_delivered_to_the_log()
    {
        var app = Start(("SLACK_WEBHOOK_URL", ""));

        await app.Client().PostFeedbackAsync(new { text = Complaints[0] });
        await DeliveredAsync(app, 1);

        var delivery = (await AlertsAsync(app)).ShouldHaveSingleItem().GetProperty("deliveries").EnumerateArray().ShouldHaveSingleItem();
        delivery.GetProperty("channel").GetString().ShouldBe("log");
        delivery.GetProperty("state").GetString().ShouldBe("delivered");
        _slack.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task Alert_groups_are_listed_by_state_and_can_be_resolved()
    {
        var app = Start();
        var client = app.Client();
        var first = await (await client.PostFeedbackAsync(new { text = Complaints[0] })).JsonAsync();
        await client.PostFeedbackAsync(new { text = Complaints[1] });
        var open = await AlertsAsync(app, "?state=open");
        var target = open.Single(g => g.GetProperty("feedback_ids")[0].GetInt64() == first.GetProperty("id").GetInt64());

        var resolved = await client.PostAsync(new Uri($"/alerts/{target.GetProperty("id").GetInt64()}/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var again = await client.PostAsync(new Uri($"/alerts/{target.GetProperty("id").GetInt64()}/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var missing = await client.PostAsync(new Uri("/alerts/999999/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var invalid = await client.GetAsync(new Uri("/alerts?state=closed", UriKind.Relative), TestContext.Current.CancellationToken);

        open.Count.ShouldBe(2);
        resolved.StatusCode.ShouldBe(HttpStatusCode.OK);
        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        invalid.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await AlertsAsync(app, "?state=open")).ShouldHaveSingleItem();
        (await AlertsAsync(app, "?state=resolved")).ShouldHaveSingleItem().GetProperty("resolved_at").GetDateTime().ShouldBe(_time.GetUtcNow().UtcDateTime);
    }

    [Fact]
    public async Task A_complaint_like_one_whose_group_was_resolved_opens_a_new_group()
    {
        var app = Start();
        var client = app.Client();
        await client.PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so frustrating (report 1)." });
        var first = (await AlertsAsync(app, "?state=open")).ShouldHaveSingleItem().GetProperty("id").GetInt64();
        (await client.PostAsync(new Uri($"/alerts/{first}/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        await client.PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so frustrating (report 2)." });

        var open = (await AlertsAsync(app, "?state=open")).ShouldHaveSingleItem();
        open.GetProperty("id").GetInt64().ShouldNotBe(first);
        open.GetProperty("count").GetInt32().ShouldBe(1);
    }

    [Fact]
    public async Task A_group_closed_by_another_process_on_the_same_store_is_not_joined()
    {
        var app = Start();
        var client = app.Client();
        await client.PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so frustrating (report 1)." });
        var first = (await AlertsAsync(app, "?state=open")).ShouldHaveSingleItem().GetProperty("id").GetInt64();

        // As an operator's script or a second process on the same store would: not through this server's writer.
        app.Execute($"UPDATE alert_groups SET state = 'resolved' WHERE id = {first}");
        await client.PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so frustrating (report 2)." });

        var open = (await AlertsAsync(app, "?state=open")).ShouldHaveSingleItem();
        open.GetProperty("id").GetInt64().ShouldNotBe(first);
        open.GetProperty("count").GetInt32().ShouldBe(1);
    }

    [Fact]
    public async Task A_burst_of_negative_messages_on_one_topic_raises_one_spike_alert()
    {
        var app = Start(("SPIKE_CHECK_SECONDS", "60"), ("SPIKE_MIN_COUNT", "10"), ("SLACK_WEBHOOK_URL", ""));
        var client = app.Client();

        // A quiet day: one billing complaint every three hours.
        for (var hour = 0; hour < 24; hour += 3)
        {
            await client.PostFeedbackAsync(new { text = $"I was overcharged on my invoice again, this is unacceptable ({hour})." });
            _time.Advance(TimeSpan.FromHours(3));
        }

        // Then twelve in twenty minutes.
        for (var i = 0; i < 12; i++)
        {
            await client.PostFeedbackAsync(new { text = $"Refund me now, your billing charged my card {i + 2} times this morning, unacceptable." });
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        List<JsonElement> spikes = [];
        for (var i = 0; i < 200 && spikes.Count == 0; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(30));
            spikes = [.. (await AlertsAsync(app)).Where(g => g.GetProperty("kind").GetString() == "spike")];
        }

        for (var i = 0; i < 5; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(61));
        }

        spikes = [.. (await AlertsAsync(app)).Where(g => g.GetProperty("kind").GetString() == "spike")];
        var spike = spikes.ShouldHaveSingleItem();
        spike.GetProperty("topic").GetString().ShouldBe("billing");
        spike.GetProperty("summary").GetString()!.ShouldContain("Poisson");
    }

    [Fact]
    public async Task A_thousand_complaints_during_a_one_minute_outage_lose_and_repeat_nothing()
    {
        var outageEnds = _time.GetUtcNow() + TimeSpan.FromMinutes(1);
        _slack.Answer = () => _time.GetUtcNow() < outageEnds ? new ReceiverAnswer(503) : ReceiverAnswer.Ok;
        var app = Start(("ALERT_SEND_INTERVAL_MS", "1000"));
        var client = app.Client();
        string[] areas = ["export", "login page", "search", "calendar sync", "invoice page", "photo upload", "dark mode", "checkout", "notifications", "settings screen"];
        string[] problems = ["crashes the whole app", "throws an error", "freezes my phone", "loses my changes", "shows a blank screen", "logs me out", "eats my battery", "charges my card twice", "deletes my files", "hangs forever"];
        string[] feelings = ["Terrible.", "I am furious.", "Unacceptable!", "So frustrating.", "Worst update ever.", "Fix it now.", "I want a refund.", "This is awful.", "Completely broken.", "I am done with this."];
        var texts = (from a in areas from p in problems from f in feelings select $"The {a} {p} every time I use it. {f}").ToList();

        var alerted = 0;
        await Parallel.ForEachAsync(texts, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (text, _) =>
        {
            var body = await (await client.PostFeedbackAsync(new { text })).JsonAsync();
            if (body.GetProperty("alert_triggered").GetBoolean())
            {
                Interlocked.Increment(ref alerted);
            }
        });

        // First messages go out a second apart, the first minute into a refusing receiver; summaries fall due
        // at the end of each group's window.
        var initial = (int)app.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE kind = 'initial'");
        await DeliveredAsync(app, initial, maxSteps: 5_000);
        _time.Advance(TimeSpan.FromMinutes(11));
        var expectedDeliveries = (int)app.Scalar("SELECT COUNT(*) FROM alert_deliveries");
        await DeliveredAsync(app, expectedDeliveries, maxSteps: 5_000);
        await Task.Delay(500, TestContext.Current.CancellationToken);

        var accepted = _slack.Accepted.Select(r => r.Json["blocks"]![3]!.ToJsonString()).ToList();
        var pending = app.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state <> 'delivered'");
        var alertsInGroups = app.Scalar("SELECT COUNT(*) FROM alerts WHERE group_id IS NOT NULL");
        var groups = app.Scalar("SELECT COUNT(*) FROM alert_groups");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"messages 1000, alerts {alerted}, groups {groups}, deliveries {expectedDeliveries}, receiver requests {_slack.Requests.Count}, " +
            $"refused {_slack.Requests.Count(r => r.Status != 200)}, accepted {accepted.Count}, duplicated {accepted.Count - accepted.Distinct().Count()}, pending {pending}");

        alerted.ShouldBeGreaterThan(500);
        alertsInGroups.ShouldBe(alerted);
        pending.ShouldBe(0);
        accepted.Count.ShouldBe(expectedDeliveries);
        accepted.Distinct().Count().ShouldBe(accepted.Count);
        _slack.Requests.Count(r => r.Status != 200).ShouldBeGreaterThan(10);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
            ["ALERT_SEND_INTERVAL_MS"] = "0",
            ["ALERT_POLL_SECONDS"] = "1",

            // Bursts in these tests are also spikes; only the spike test wants to see those.
            ["SPIKE_MIN_COUNT"] = "100000",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new FeedbackApp(all, _time, store: store);
        _apps.Add(app);
        return app;
    }

    /// <summary>Moves the fake clock, then gives the dispatcher a moment of real time to act on it.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        _time.Advance(by);
        await Task.Delay(20);
    }

    private static List<string> AcceptedKeys(IReadOnlyList<ReceivedRequest> requests) =>
        [.. requests.Where(r => r.Status == 200).Select(r => r.Json["blocks"]![3]!.ToJsonString())];

    [Theory]
    [InlineData("?limit=many", "limit")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?state=closed", "state")]
    public async Task A_bad_alerts_query_is_a_400_naming_the_parameter(string query, string parameter)
    {
        var response = await Start().Client().GetAsync(new Uri("/alerts" + query, UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(parameter, out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Empty_alerts_parameters_filter_nothing()
    {
        var app = Start();
        (await app.Client().PostFeedbackAsync(new { text = Complaints[0] })).StatusCode.ShouldBe(HttpStatusCode.Created);

        (await AlertsAsync(app, "?state=&limit=")).ShouldHaveSingleItem();
    }

    private static async Task<List<JsonElement>> AlertsAsync(FeedbackApp app, string query = "")
    {
        var response = await app.Client().GetAsync(new Uri("/alerts" + query, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.JsonAsync()).GetProperty("items").EnumerateArray()];
    }

    /// <summary>Waits until <paramref name="count"/> deliveries are recorded as delivered, moving the clock a second at a time.</summary>
    private async Task DeliveredAsync(FeedbackApp app, int count, int maxSteps = 400)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            if (app.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state = 'delivered'") >= count)
            {
                return;
            }

            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        throw new TimeoutException($"Fewer than {count} deliveries were recorded as delivered.");
    }
}

/// <summary>What a test compares of an alert group; deliveries as sorted "channel/kind" pairs.</summary>
internal sealed record GroupState(int Count, int Alerts, string Severity, DateTime FirstAt, DateTime LastAt, string Deliveries);

public sealed class AlertOnSqliteTests() : AlertTests(StoreKind.Sqlite);

public sealed class AlertOnPostgresTests() : AlertTests(StoreKind.Postgres);
