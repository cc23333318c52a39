using System.Net;
using System.Security.Cryptography;
using System.Text;
using Feedback.Api.Security;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>Named keys with scopes, rotation without a restart, per-key rate limits and load shedding.</summary>
public sealed class SecurityTests : IDisposable
{
    private const string Ingest = "ingest-key-0123456789abcdef";
    private const string Reader = "reader-key-0123456789abcdef";
    private const string Admin = "admin-key-0123456789abcdef0";

    private readonly string _keysFile = Path.Combine(Directory.CreateTempSubdirectory("feedback-keys-").FullName, "keys.txt");
    private readonly List<FeedbackApp> _apps = [];

    public SecurityTests() => File.WriteAllLines(_keysFile,
    [
        "# written by the test",
        Line("collector", "ingest", Ingest),
        Line("dashboard", "read", Reader),
        Line("ops", "admin", Admin),
    ]);

    public void Dispose()
    {
        foreach (var app in _apps)
        {
            app.Dispose();
        }

        Directory.Delete(Path.GetDirectoryName(_keysFile)!, recursive: true);
    }

    [Fact]
    public async Task Each_scope_opens_only_its_routes_and_a_refusal_says_nothing_about_keys()
    {
        var app = Start();

        var ingestPost = await app.Client(Ingest).PostFeedbackAsync(new { text = "The export fails with an error every time." });
        var ingestRead = await app.Client(Ingest).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        var readerRead = await app.Client(Reader).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        var readerPost = await app.Client(Reader).PostFeedbackAsync(new { text = "The export fails with an error every time." });
        var readerResolve = await app.Client(Reader).PostAsync(new Uri("/alerts/1/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);
        var adminRead = await app.Client(Admin).GetAsync(new Uri("/stats", UriKind.Relative), TestContext.Current.CancellationToken);
        var adminResolve = await app.Client(Admin).PostAsync(new Uri("/alerts/999/resolve", UriKind.Relative), null, TestContext.Current.CancellationToken);

        ingestPost.StatusCode.ShouldBe(HttpStatusCode.Created);
        readerRead.StatusCode.ShouldBe(HttpStatusCode.OK);
        adminRead.StatusCode.ShouldBe(HttpStatusCode.OK);
        adminResolve.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        foreach (var refused in new[] { ingestRead, readerPost, readerResolve })
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            var problem = await refused.JsonAsync();
            problem.Str("type").ShouldBe("/problems/forbidden");
            problem.Str("detail").ShouldNotContain("collector");
            problem.Str("detail").ShouldNotContain("dashboard");
        }

        app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
    }

    [Fact]
    public async Task Keys_are_added_and_revoked_by_editing_the_file_without_a_restart()
    {
        var app = Start();
        const string newKey = "rotated-key-0123456789abcdef";
        (await app.Client(newKey).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        File.WriteAllLines(_keysFile, [Line("collector", "ingest", Ingest), Line("rotated", "read", newKey)]);
        await EventuallyAsync(app, newKey, HttpStatusCode.OK);
        await EventuallyAsync(app, Reader, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_broken_keys_file_keeps_the_keys_in_force()
    {
        // The file is read again on the first request after a second of the clock: with a fake clock moved past that
        // second, the next request is the one that reads the broken file, whatever a busy machine does meanwhile.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
        var app = Start(time, ("Logging:LogLevel:Feedback", "Error"));
        (await app.Client(Reader).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        File.WriteAllText(_keysFile, "this is not a keys file\n");
        time.Advance(TimeSpan.FromSeconds(2));
        var afterBreak = await app.Client(Reader).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);

        afterBreak.StatusCode.ShouldBe(HttpStatusCode.OK);
        app.Logs.Events.ShouldContain(e => e.Text.Contains("API keys file could not be reloaded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failed_attempts_are_logged_without_the_key_and_no_text_reaches_the_log()
    {
        const string secretText = "My password is hunter2 and the app crashes on login, terrible!";
        const string wrongKey = "wrong-key-with-secret-material-42";
        var app = Start(("Logging:LogLevel:Default", "Information"), ("Logging:LogLevel:Feedback", "Information"), ("Logging:LogLevel:Microsoft.AspNetCore", "Information"));

        await app.Client(Ingest).PostFeedbackAsync(new { text = secretText, metadata = new { note = "hunter2" } });
        await app.Client(wrongKey).PostFeedbackAsync(new { text = secretText });
        await app.Client(Ingest).PostRawAsync("{\"text\": \"hunter2 " + "\", \"source\": 5}");

        var events = app.Logs.Events.Where(e => e.Level >= LogLevel.Information).ToList();
        events.ShouldContain(e => e.Text.Contains("unknown API key", StringComparison.Ordinal));
        events.ShouldNotContain(e => e.Text.Contains("hunter2", StringComparison.Ordinal));
        events.ShouldNotContain(e => e.Text.Contains(wrongKey, StringComparison.Ordinal));
        events.ShouldNotContain(e => e.Text.Contains(Ingest, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refused_keys_are_logged_at_most_once_per_interval_with_the_count_and_the_route_not_the_path()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var app = Start(time, ("Logging:LogLevel:Feedback", "Information"));
        var scanner = app.Client("a-key-nobody-was-ever-given-1");
        var path = new Uri("/customers/jane.doe@example.com/feedback", UriKind.Relative);
        List<string> Refusals() => [.. app.Logs.Events.Where(e => e.Text.Contains("unknown API key", StringComparison.Ordinal)).Select(e => e.Text)];

        for (var i = 0; i < 5; i++)
        {
            (await scanner.DeleteAsync(path, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var first = Refusals();
        time.Advance(RefusedKeyLog.Interval);
        (await scanner.DeleteAsync(path, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var second = Refusals();

        first.Count.ShouldBe(1);
        first[0].ShouldContain("Refused 1 request(s)");
        first[0].ShouldContain("DELETE /customers/{customer_id}/feedback");
        second.Count.ShouldBe(2);
        second[1].ShouldContain("Refused 5 request(s)");
        app.Logs.Events.ShouldNotContain(e => e.Text.Contains("jane.doe", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_over_its_rate_limit_gets_429_with_retry_after_and_other_keys_do_not()
    {
        var time = new FakeTimeProvider();
        var app = Start(time, ("RATE_LIMIT_PER_MINUTE", "3"));
        var ingest = app.Client(Ingest);

        for (var i = 0; i < 3; i++)
        {
            (await ingest.PostFeedbackAsync(new { text = $"Message number {i} about the export." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var limited = await ingest.PostFeedbackAsync(new { text = "One message too many about the export." });
        var otherKey = await app.Client(Reader).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);

        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBe(20, 1);
        (await limited.JsonAsync()).Str("type").ShouldBe("/problems/rate-limited");
        otherKey.StatusCode.ShouldBe(HttpStatusCode.OK);
        app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(3);

        time.Advance(TimeSpan.FromSeconds(21));
        (await ingest.PostFeedbackAsync(new { text = "Allowed again after the wait." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await ingest.PostFeedbackAsync(new { text = "But only one token came back." })).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Past_the_concurrency_limit_requests_are_shed_with_503_and_health_still_answers()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        llm.Reply = _ => new FakeReply.Gated(gate, FakeReply.Labels("negative", "bug", 0.9));

        // The held requests wait for the LLM until the gate opens: on a clock that does not move, their deadline never
        // ends that wait early and frees their places, however long a busy machine takes to send the third request.
        var app = Start(
            new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero)),
            ("MAX_CONCURRENT_REQUESTS", "2"), ("OPENAI_BASE_URL", llm.BaseUrl.ToString()), ("OPENAI_API_KEY", "sk-test"),
            ("AI_DEADLINE_MS", "10000"));
        var client = app.Client(Admin);

        var held = Enumerable.Range(0, 2).Select(i => client.PostFeedbackAsync(new { text = $"Held request {i} about the slow export." })).ToList();
        await EventuallyAsync(() => llm.Requests.Count == 2);
        var shed = await client.PostFeedbackAsync(new { text = "A third request while two are in flight." });
        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);
        gate.SetResult();
        var finished = await Task.WhenAll(held);

        shed.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        shed.Headers.RetryAfter.ShouldNotBeNull();
        (await shed.JsonAsync()).Str("type").ShouldBe("/problems/overloaded");
        health.StatusCode.ShouldBe(HttpStatusCode.OK);
        finished.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(2);
    }

    private static string Line(string name, string scopes, string key) =>
        $"{name} {scopes} sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";

    private FeedbackApp Start(params (string Key, string Value)[] settings) => Start(null, settings);

    private FeedbackApp Start(TimeProvider? time, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal) { ["API_KEYS_FILE"] = _keysFile };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new FeedbackApp(all, time);
        _apps.Add(app);
        return app;
    }

    private static async Task EventuallyAsync(FeedbackApp app, string key, HttpStatusCode expected) =>
        await EventuallyAsync(async () => (await app.Client(key).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode == expected);

    private static async Task EventuallyAsync(Func<bool> condition) => await EventuallyAsync(() => Task.FromResult(condition()));

    /// <summary>Waits for the condition; the bound (a minute of 25 ms pauses) only ends a hung test.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 2400; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The condition never held.");
    }
}
