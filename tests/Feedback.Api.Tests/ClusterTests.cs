using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #21 item 15: the documented set-up (deploy/: two instances behind nginx, PostgreSQL, Redis) rehearsed for real
/// through scripts/cluster.sh, every request through nginx as a user's would come. One cluster for the class.
/// </summary>
public sealed class ClusterTests(Cluster cluster) : IClassFixture<Cluster>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_dashboard_session_signed_in_through_nginx_is_accepted_by_both_instances()
    {
        await cluster.StartAsync();
        using var browser = new HttpClient { BaseAddress = cluster.Url };
        var signIn = await browser.PostAsJsonAsync(new Uri("/dashboard/session", UriKind.Relative), new { key = FeedbackApp.Key }, Cancel);
        signIn.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        // Through nginx, which spreads these over both instances, and then at each instance directly.
        foreach (var address in new[] { cluster.Url, cluster.Url, cluster.Url, cluster.Url, cluster.Instance(1), cluster.Instance(2) })
        {
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Add("Cookie", cookie);
            var session = await (await client.GetAsync(new Uri("/dashboard/session", UriKind.Relative), Cancel)).JsonAsync();
            session.GetProperty("signed_in").GetBoolean().ShouldBeTrue($"signed in at {address}");
            (await client.GetAsync(new Uri("/dashboard/alerts", UriKind.Relative), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.GetAsync(new Uri("/feedback?limit=5", UriKind.Relative), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Metrics_are_scraped_from_each_instance_and_not_published_on_nginxs_port()
    {
        await cluster.StartAsync();
        using var client = new HttpClient();

        // Issue #21 item 16: the public port hides /metrics in every spelling the API's routing would accept.
        foreach (var path in new[] { "/metrics", "/METRICS", "/metrics/", "//metrics", "/%6Detrics" })
        {
            // Joined as text: new Uri(base, "//metrics") would read the path as a host name.
            var url = new Uri(cluster.Url.GetLeftPart(UriPartial.Authority) + path);
            (await client.GetAsync(url, Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound, path);
        }

        foreach (var n in new[] { 1, 2 })
        {
            (await client.GetAsync(new Uri(cluster.Instance(n), "/metrics"), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Server_sent_events_arrive_through_nginx_as_they_are_written()
    {
        await cluster.StartAsync();
        using var client = new HttpClient { BaseAddress = cluster.Url, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.Key);

        // A bound only for a hung test: a buffering proxy holds these small notices until its buffer fills, which
        // they never do, so without nginx's settings for this location nothing arrives at all.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await client.GetAsync(new Uri("/dashboard/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, bound.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(bound.Token));

        // The first notice is sent at once: the version of what is stored now.
        var before = (await NextNoticeAsync(events, _ => true, bound.Token)).GetProperty("version").GetInt64();

        // Whichever instance takes a write, its commit reaches the stream's instance (itself, or through Redis).
        var notice = await client.PostUntilAsync(
            "Since the update the calendar sync shows a blank screen. Terrible.",
            () => NextNoticeAsync(events, n => n.GetProperty("version").GetInt64() > before, bound.Token),
            bound.Token);
        notice.GetProperty("version").GetInt64().ShouldBeGreaterThan(before);
    }

    [Fact]
    public async Task The_rate_limit_holds_across_both_instances()
    {
        await cluster.StartAsync();
        using var client = new HttpClient { BaseAddress = cluster.Url };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.SecondKey);
        const int Sent = Cluster.RatePerMinute * 3 / 2;

        var clock = Stopwatch.StartNew();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Sent), new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = Cancel }, async (_, token) =>
            statuses.Add((await client.GetAsync(new Uri("/alerts?state=open", UriKind.Relative), token)).StatusCode));
        var elapsed = clock.Elapsed;

        var accepted = statuses.Count(s => s == HttpStatusCode.OK);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Sent} sent in {elapsed.TotalSeconds:F1} s: {accepted} accepted, {statuses.Count(s => s == HttpStatusCode.TooManyRequests)} 429");
        statuses.ShouldAllBe(s => s == HttpStatusCode.OK || s == HttpStatusCode.TooManyRequests);

        // One bucket for the key: its burst plus what refilled while the requests ran (not a bound on time: the
        // allowance grows with the time taken). Each instance counting alone would let all of them through.
        var refilled = (int)Math.Ceiling(elapsed.TotalMinutes * Cluster.RatePerMinute);
        // A little slack for a Redis call slower than its timeout, which the instance then counts alone.
        accepted.ShouldBeLessThanOrEqualTo(Cluster.RatePerMinute + refilled + 20);
        accepted.ShouldBeLessThan(Sent, "each instance counted on its own");
    }

    /// <summary>Reads "changed" notices until one meets the condition.</summary>
    private static async Task<JsonElement> NextNoticeAsync(StreamReader events, Func<JsonElement, bool> condition, CancellationToken cancellationToken)
    {
        while (await events.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var notice = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                if (condition(notice))
                {
                    return notice;
                }
            }
        }

        throw new InvalidOperationException("The event stream ended.");
    }
}

/// <summary>
/// Issue #21 item 15: kill -9 of one instance of the documented set-up under load, through nginx. A cluster of its own,
/// since it leaves one instance dead.
/// </summary>
public sealed class ClusterFailoverTests(Cluster cluster) : IClassFixture<Cluster>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_an_instance_under_load_loses_no_acknowledged_message_and_no_alert()
    {
        await cluster.StartAsync();
        using var client = new HttpClient { BaseAddress = cluster.Url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-API-Key", FeedbackApp.Key);
        var acknowledged = new ConcurrentDictionary<long, bool>();
        var failed = 0;
        var victim = cluster.ProcessId(1);
        var killed = new TaskCompletionSource();

        var texts = Complaints().Take(120).ToList();
        var load = Parallel.ForEachAsync(texts, new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = Cancel }, async (text, token) =>
        {
            // A third of the load is acknowledged before the kill, the rest goes during and after it.
            if (acknowledged.Count >= texts.Count / 3)
            {
                killed.TrySetResult();
            }

            try
            {
                var response = await client.PostFeedbackAsync(new { text });
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.JsonAsync();
                    acknowledged[body.GetProperty("id").GetInt64()] = body.GetProperty("alert_triggered").GetBoolean();
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // The request was cut by the kill: not acknowledged, so nothing was promised.
                Interlocked.Increment(ref failed);
            }
        });

        await killed.Task.WaitAsync(TimeSpan.FromMinutes(2), Cancel);
        using (var process = Process.GetProcessById(victim))
        {
            process.Kill();
        }

        await load;

        var ids = acknowledged.Keys.ToArray();
        var alerted = acknowledged.Where(a => a.Value).Select(a => a.Key).ToArray();
        var dead = $"%-{victim}-%";
        var database = cluster.Database;
        TestContext.Current.TestOutputHelper?.WriteLine($"{texts.Count} sent: {ids.Length} acknowledged ({alerted.Length} with an alert), {failed} not");
        ids.Length.ShouldBeGreaterThan(texts.Count / 3);

        // Every acknowledged message is stored, and every alert it raised.
        database.Scalar("SELECT COUNT(*) FROM feedback WHERE id = ANY(@ids)", ("ids", ids)).ShouldBe(ids.Length);
        database.Scalar("SELECT COUNT(DISTINCT feedback_id) FROM alerts WHERE feedback_id = ANY(@ids)", ("ids", alerted)).ShouldBe(alerted.Length);

        // And each alert goes out: sent by the survivor, or held by the dead instance's lease, which the survivor takes
        // over when it ends (MultiInstanceTests covers that take-over; its lease is longer than this test should run).
        const string Undelivered = """
            SELECT COUNT(*) FROM alerts a WHERE a.feedback_id = ANY(@ids) AND NOT EXISTS (
              SELECT 1 FROM alert_deliveries d WHERE d.group_id = a.group_id AND (d.state = 'delivered' OR d.claimed_by LIKE @dead))
            """;
        for (var i = 0; i < 600 && database.Scalar(Undelivered, ("ids", alerted), ("dead", dead)) > 0; i++)
        {
            await Task.Delay(100, Cancel);
        }

        database.Scalar(Undelivered, ("ids", alerted), ("dead", dead)).ShouldBe(0);
        var held = database.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state <> 'delivered' AND claimed_by LIKE @dead", ("dead", dead));
        TestContext.Current.TestOutputHelper?.WriteLine($"{cluster.Slack.Accepted.Count} alerts delivered, {held} held by the killed instance's lease");

        // The survivor still answers through nginx.
        (await client.GetAsync(new Uri("/stats", UriKind.Relative), Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>Different complaints (10 areas x 10 problems x 10 feelings), each an alert of its own.</summary>
    private static IEnumerable<string> Complaints()
    {
        string[] areas = ["export", "login page", "search", "calendar sync", "invoice page", "photo upload", "dark mode", "checkout", "notifications", "settings screen"];
        string[] problems = ["crashes the whole app", "throws an error", "freezes my phone", "loses my changes", "shows a blank screen", "logs me out", "eats my battery", "charges my card twice", "deletes my files", "hangs forever"];
        string[] feelings = ["Terrible.", "I am furious.", "Unacceptable!", "So frustrating.", "Worst update ever.", "Fix it now.", "I want a refund.", "This is awful.", "Completely broken.", "I am done with this."];
        return from f in feelings from p in problems from a in areas select $"Cluster: the {a} {p} every time I use it. {f}";
    }
}
