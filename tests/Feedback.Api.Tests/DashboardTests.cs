using System.Net;
using System.Net.Http.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class DashboardTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Theory]
    [InlineData("/")]
    [InlineData("/dashboard/assets/app.js")]
    public async Task The_dashboard_is_served_without_a_key_and_with_strict_security_headers(string path)
    {
        var response = await _app.Client(key: null).GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("script-src 'self'");
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldNotContain("unsafe-inline");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("no-referrer");
    }

    [Fact]
    public async Task The_page_loads_nothing_from_another_origin()
    {
        var html = await _app.Client(key: null).GetStringAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);

        html.ShouldNotContain("http://");
        html.ShouldNotContain("https://");
        html.ShouldNotContain("<script>");
        html.ShouldContain("<script src=\"/dashboard/assets/app.js\"");
    }

    [Fact]
    public async Task A_valid_key_gives_an_http_only_strict_session_cookie_that_reads_the_api()
    {
        var browser = _app.Client(key: null);

        var signIn = await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken);

        signIn.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        cookie.ShouldStartWith("feedback_session=");
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        cookie.ShouldNotContain(FeedbackApp.Key);
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await browser.GetAsync(new Uri("/stats", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await browser.GetAsync(new Uri("/dashboard/alerts", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var session = await (await browser.GetAsync(new Uri("/dashboard/session", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        session.GetProperty("signed_in").GetBoolean().ShouldBeTrue();
        // The page offers labelling only to a key that may label.
        session.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()).ShouldBe(["admin", "ingest", "read"]);
    }

    [Fact]
    public async Task A_wrong_key_gets_no_cookie_and_the_api_stays_closed()
    {
        var browser = _app.Client(key: null);

        var signIn = await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = "not-a-key-at-all-0000" }, TestContext.Current.CancellationToken);

        signIn.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        signIn.Headers.Contains("Set-Cookie").ShouldBeFalse();
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_forged_session_cookie_is_401_with_the_usual_problem()
    {
        var browser = _app.Client(key: null);
        browser.DefaultRequestHeaders.Add("Cookie", "feedback_session=forged-value");

        var response = await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/unauthorized");
    }

    [Fact]
    public async Task Signing_out_closes_the_api_to_that_browser()
    {
        var browser = _app.Client(key: null);
        await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, TestContext.Current.CancellationToken);

        // Sent as the page's own fetch is: a write with the cookie from anywhere else is refused (DashboardCookieTests).
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/dashboard/session");
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        var signOut = await browser.SendAsync(request, TestContext.Current.CancellationToken);

        signOut.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var session = await (await browser.GetAsync(new Uri("/dashboard/session", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        session.GetProperty("signed_in").GetBoolean().ShouldBeFalse();
        (await browser.GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}

/// <summary>The dashboard's reads of alert groups and revisions on each store.</summary>
public abstract class DashboardReadTests : IDisposable
{
    private readonly FeedbackApp _app;

    protected DashboardReadTests(StoreKind store) => _app = new FeedbackApp(store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Open_alert_groups_are_listed_with_their_size_first_message_messages_and_deliveries_until_resolved()
    {
        var client = _app.Client();
        var crash = await (await client.PostFeedbackAsync(new { text = "The app crashes every time I open it. Terrible, I lost all my data." })).JsonAsync();
        var first = await (await client.PostFeedbackAsync(new { text = "I was charged twice this month, refund me now. Unacceptable and awful." })).JsonAsync();
        var again = await (await client.PostFeedbackAsync(new { text = "I was charged twice this month!! Refund me now, unacceptable and awful." })).JsonAsync();
        var crashGroup = (await (await client.GetAsync(new Uri("/alerts?state=open", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync())
            .GetProperty("items").EnumerateArray().Single(g => g.GetProperty("feedback_ids").EnumerateArray().Any(i => i.GetInt64() == crash.GetProperty("id").GetInt64()));
        var resolve = await client.PostAsync(new Uri($"/alerts/{crashGroup.GetProperty("id").GetInt64()}/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        resolve.StatusCode.ShouldBe(HttpStatusCode.OK);

        var groups = await (await client.GetAsync(new Uri("/dashboard/alerts", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        groups.GetProperty("total").GetInt64().ShouldBe(1);
        var group = groups.GetProperty("items").EnumerateArray().ShouldHaveSingleItem();
        group.Str("kind").ShouldBe("feedback");
        group.Str("topic").ShouldBe("billing");
        group.GetProperty("count").GetInt32().ShouldBe(2);
        group.Str("summary").ShouldStartWith("I was charged twice this month, refund me now.");
        group.Str("severity").ShouldBe("critical");
        group.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("feedback_id").GetInt64())
            .ShouldBe([again.GetProperty("id").GetInt64(), first.GetProperty("id").GetInt64()]);
        group.GetProperty("messages")[0].Str("excerpt").ShouldContain("charged twice this month!!");
        group.GetProperty("deliveries").EnumerateArray().ShouldContain(d => d.Str("channel") == "log" && d.Str("kind") == "initial");
        (group.GetProperty("last_at").GetDateTime() >= group.GetProperty("first_at").GetDateTime()).ShouldBeTrue();
    }

    /// <summary>A group of many alerts shows its latest 20 open ones, read a group at a time through the (group_id, id) index.</summary>
    [Fact]
    public async Task A_large_open_group_shows_its_latest_twenty_members_and_leaves_out_superseded_ones()
    {
        var client = _app.Client();
        (await client.PostFeedbackAsync(new { text = "I was charged twice this month, refund me now. Unacceptable and awful." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        _app.Scalar("SELECT count(*) FROM alerts").ShouldBe(1);
        for (var i = 0; i < 5; i++)
        {
            _app.Execute("INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity) " +
                "SELECT feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity FROM alerts");
        }

        _app.Execute("UPDATE alerts SET state = 'superseded' WHERE id > (SELECT max(id) - 15 FROM alerts)");

        var groups = await (await client.GetAsync(new Uri("/dashboard/alerts", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        _app.Scalar("SELECT count(*) FROM alerts WHERE state = 'open'").ShouldBe(17);
        groups.GetProperty("items").EnumerateArray().ShouldHaveSingleItem().GetProperty("messages").GetArrayLength().ShouldBe(17);
        _app.Execute("UPDATE alerts SET state = 'open'");
        groups = await (await client.GetAsync(new Uri("/dashboard/alerts", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        groups.GetProperty("items").EnumerateArray().ShouldHaveSingleItem().GetProperty("messages").GetArrayLength().ShouldBe(20);
    }

    [Fact]
    public async Task Revisions_of_a_message_are_listed_oldest_first_with_before_and_after()
    {
        var client = _app.Client();
        var id = (await (await client.PostFeedbackAsync(new { text = "The export is slow and sometimes fails completely." })).JsonAsync()).GetProperty("id").GetInt64();
        _app.Execute($"""
            INSERT INTO feedback_revisions (feedback_id, revised_at, previous_sentiment, previous_topic, previous_confidence, previous_method,
                sentiment, topic, confidence, method, prompt_version, model, reason)
            VALUES ({id}, '2026-11-24 10:30:01', 'neutral', 'general', 0.55, 'ml_fallback', 'negative', 'performance', 0.91, 'ai', 'v2', 'gpt-4o-mini', 'the LLM answered after the deadline'),
                   ({id}, '2026-11-24 10:31:00', 'negative', 'performance', 0.91, 'ai', 'negative', 'bug', 0.88, 'ai', 'v3', 'gpt-4o-mini', 'reclassified')
            """);

        var revisions = await (await client.GetAsync(new Uri($"/feedback/{id}/revisions", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        var missing = await client.GetAsync(new Uri("/feedback/999/revisions", UriKind.Relative), TestContext.Current.CancellationToken);

        var items = revisions.GetProperty("items").EnumerateArray().ToList();
        items.Count.ShouldBe(2);
        items[0].GetProperty("previous").Str("processing_method").ShouldBe("ml_fallback");
        items[0].GetProperty("current").Str("prompt_version").ShouldBe("v2");
        items[0].Str("reason").ShouldBe("the LLM answered after the deadline");
        items[1].GetProperty("current").Str("topic").ShouldBe("bug");
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}

public sealed class DashboardReadsOnSqliteTests() : DashboardReadTests(StoreKind.Sqlite);

public sealed class DashboardReadsOnPostgresTests() : DashboardReadTests(StoreKind.Postgres);
