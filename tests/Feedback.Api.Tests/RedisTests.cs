using System.Net;
using System.Text.Json;
using Feedback.Analysis;
using Feedback.Analysis.Llm;
using Feedback.Api.Hosting;
using Feedback.Api.Redis;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using StackExchange.Redis;

namespace Feedback.Api.Tests;

/// <summary>
/// Two instances (two in-process hosts, each with its own SQLite file, or its own PostgreSQL database where a test says
/// so) sharing one real Redis (REDIS_URL): they ask the LLM once per text, share each key's rate limit and group similar
/// alerts together; with Redis gone each goes on alone. Every test has its own key prefix.
/// </summary>
public sealed class RedisTests : IAsyncLifetime
{
    private const string Complaint = "The app crashes every time I upload a photo and I lost my whole album.";

    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly string _prefix = TestRedis.NewPrefix();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_same_text_posted_to_two_instances_reaches_the_llm_once()
    {
        var llm = await StartLlmAsync();
        var (first, second) = (Start(LlmSettings(llm)), Start(LlmSettings(llm)));

        var fromFirst = await (await first.Client().PostFeedbackAsync(new { text = Complaint })).JsonAsync();
        var fromSecond = await (await second.Client().PostFeedbackAsync(new { text = "  " + Complaint.Replace(" ", "  \n ", StringComparison.Ordinal) + " " })).JsonAsync();

        llm.Requests.Count.ShouldBe(1, RedisWarnings(first, second));
        fromFirst.Str("processing_method").ShouldBe("ai");
        fromSecond.Str("processing_method").ShouldBe("ai");
        fromSecond.Str("status").ShouldBe("final");
        fromSecond.Str("topic").ShouldBe(fromFirst.Str("topic"));
        fromSecond.GetProperty("confidence").GetDouble().ShouldBe(fromFirst.GetProperty("confidence").GetDouble());
    }

    [Fact]
    public async Task A_second_instance_asking_while_the_first_waits_for_the_llm_uses_the_first_ones_answer()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var llm = await StartLlmAsync();
        llm.Reply = _ => new FakeReply.Gated(gate, FakeReply.Labels("negative", "bug", 0.93));
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Start(LlmSettings(llm));
        var second = Start(LlmSettings(llm), services: services => WatchClaims(services, refused));

        // Both hosts start before the first request: the first one's LLM wait (its deadline is the longest allowed) then
        // spans only the second request, not a host start that a busy machine can stretch past the deadline.
        var (firstClient, secondClient) = (first.Client(), second.Client());
        var fromFirst = firstClient.PostFeedbackAsync(new { text = Complaint });
        await WaitUntilAsync(() => llm.Requests.Count == 1);
        var fromSecond = secondClient.PostFeedbackAsync(new { text = Complaint });

        // The second instance found no answer and the first one's "asking" mark: without the mark it would
        // now call the LLM too. (A missing mark fails here, after the wait gives up.)
        await refused.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        gate.SetResult();
        var answers = new[] { await (await fromFirst).JsonAsync(), await (await fromSecond).JsonAsync() };

        llm.Requests.Count.ShouldBe(1, RedisWarnings(first, second));
        answers.ShouldAllBe(a => a.GetProperty("processing_method").GetString() == "ai" && a.GetProperty("status").GetString() == "final");
    }

    [Fact]
    public async Task A_keys_rate_limit_holds_across_two_instances()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var limit = ("RATE_LIMIT_PER_MINUTE", "4");
        var (first, second) = (Start([limit], time), Start([limit], time));
        var (a, b) = (first.Client(), second.Client());

        var allowed = new List<HttpStatusCode>();
        foreach (var client in new[] { a, b, a, b })
        {
            allowed.Add((await client.PostFeedbackAsync(new { text = $"Message {allowed.Count} about the export page." })).StatusCode);
        }

        var onSecond = await b.PostFeedbackAsync(new { text = "One message too many about the export page." });
        var onFirst = await a.PostFeedbackAsync(new { text = "Another message too many about the export page." });
        var otherKey = await first.Client(FeedbackApp.SecondKey).PostFeedbackAsync(new { text = "A message from another key." });

        allowed.ShouldAllBe(s => s == HttpStatusCode.Created);
        onSecond.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        onFirst.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        onSecond.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBe(15, 1);
        (await onFirst.JsonAsync()).Str("type").ShouldBe("/problems/rate-limited");
        otherKey.StatusCode.ShouldBe(HttpStatusCode.Created);

        // A token comes back every 15 s, on whichever instance asks for it.
        time.Advance(TimeSpan.FromSeconds(15));
        (await b.PostFeedbackAsync(new { text = "A message after the refill." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await a.PostFeedbackAsync(new { text = "And one too many again." })).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Similar_complaints_on_two_instances_form_one_group_whose_first_message_is_sent_once(StoreKind store)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var slack = await RecordingReceiver.StartAsync();
        _disposables.Add(slack);
        (string, string)[] alerts = [("SLACK_WEBHOOK_URL", slack.Url.ToString()), ("ALERT_SEND_INTERVAL_MS", "0"), ("ALERT_POLL_SECONDS", "1")];
        var (first, second) = (Start(alerts, time, store: store), Start(alerts, time, store: store));

        for (var report = 1; report <= 4; report++)
        {
            var app = report % 2 == 1 ? first : second;
            var body = await (await app.Client().PostFeedbackAsync(new { text = $"The app crashes every time I open the camera, so frustrating (report {report})." })).JsonAsync();
            body.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
            time.Advance(TimeSpan.FromSeconds(5));
        }

        var unrelated = await (await second.Client().PostFeedbackAsync(new { text = "I was charged twice for my subscription this month, I want a refund now." })).JsonAsync();
        unrelated.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        await slack.WaitForAsync(r => r.Count >= 2);

        const string Groups = "SELECT COUNT(*) FROM alert_groups WHERE topic = 'bug' AND dedup_key LIKE 'shared:%'";
        first.Scalar(Groups).ShouldBe(1);
        second.Scalar(Groups).ShouldBe(1);
        SharedKey(first).ShouldBe(SharedKey(second));

        // The first instance opened the group and sends its first message; the second only adds to the summary.
        const string Initial = "SELECT COUNT(*) FROM alert_deliveries d JOIN alert_groups g ON g.id = d.group_id WHERE g.topic = 'bug' AND d.kind = 'initial'";
        first.Scalar(Initial).ShouldBe(1);
        second.Scalar(Initial).ShouldBe(0);
        second.Scalar("SELECT count FROM alert_groups WHERE topic = 'bug'").ShouldBe(4);
        slack.Requests.Count(r => r.Body.Contains("crashes every time I open the camera", StringComparison.Ordinal)).ShouldBe(1);
        slack.Requests.Count(r => r.Body.Contains("charged twice", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task A_request_sent_again_with_its_idempotency_key_does_not_count_in_the_shared_group_again(StoreKind store)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var (first, second) = (Start([], time, store: store), Start([], time, store: store));
        var complaint = new { text = "The app crashes every time I open the camera, so frustrating." };

        var stored = await first.Client().PostFeedbackAsync(complaint, "camera-report-1");
        stored.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await stored.JsonAsync()).GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        for (var again = 0; again < 3; again++)
        {
            var replayed = await first.Client().PostFeedbackAsync(complaint, "camera-report-1");
            replayed.StatusCode.ShouldBe(HttpStatusCode.Created);
            replayed.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        }

        // The key reused with another body is refused, and counts no more than a replay.
        var reused = await first.Client().PostFeedbackAsync(new { text = "The app crashes when I open the camera, really frustrating." }, "camera-report-1");
        reused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);

        time.Advance(TimeSpan.FromSeconds(5));
        var similar = await (await second.Client().PostFeedbackAsync(new { text = "The app crashes every time I open the camera, so annoying." })).JsonAsync();
        similar.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();

        // Two messages were stored, one on each instance, in one group: the second instance's row counts both.
        first.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
        second.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
        SharedKey(first).ShouldBe(SharedKey(second));
        second.Scalar("SELECT count FROM alert_groups WHERE topic = 'bug'").ShouldBe(2);
    }

    [Fact]
    public async Task One_idempotency_key_joins_a_shared_group_once_even_when_its_sends_overlap()
    {
        // Two sends of one key both in flight: neither is stored yet when they join, so the store cannot tell
        // that the second is a replay. Redis does: the key is claimed with the first answer.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var app = Start([], time);
        app.Client();
        var groups = app.Services.GetRequiredService<Feedback.Api.Alerts.SharedAlertGroups>();
        var at = time.GetUtcNow().UtcDateTime;
        const string text = "The app crashes every time I open the camera, so frustrating.";

        var first = await groups.JoinAsync("bug", text, null, at, "key-1:camera-report-1");
        var again = await groups.JoinAsync("bug", text, null, at.AddMilliseconds(5), "key-1:camera-report-1");
        var other = await groups.JoinAsync("bug", text, null, at.AddMilliseconds(9), "key-1:camera-report-2");
        var unkeyed = await groups.JoinAsync("bug", text, null, at.AddMilliseconds(12));

        first.ShouldNotBeNull().First.ShouldBeTrue();
        again.ShouldBe(first);
        other.ShouldNotBeNull().Key.ShouldBe(first.Key);
        other.First.ShouldBeFalse();
        other.Count.ShouldBe(2);
        unkeyed.ShouldNotBeNull().Count.ShouldBe(3);
    }

    [Fact]
    public async Task With_redis_stopped_the_api_answers_alone_and_health_says_redis_is_degraded()
    {
        using var redis = await OwnRedisServer.StartAsync();
        var app = Start([("REDIS_URL", $"redis://{redis.Address}/0"), ("RATE_LIMIT_PER_MINUTE", "100")]);
        var client = app.Client();
        (await client.PostFeedbackAsync(new { text = Complaint })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var healthy = await HealthAsync(app);

        redis.Stop();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.PostFeedbackAsync(new { text = $"{Complaint} Again, attempt {i}." })).StatusCode);
        }

        var degraded = await HealthAsync(app);
        var fallbacks = (await ScrapeAsync(app)).Sum("feedback_redis_fallbacks_total");

        healthy.Str("redis").ShouldBe("ok");
        healthy.Str("status").ShouldBe("ok");
        statuses.ShouldAllBe(s => s == HttpStatusCode.Created);
        degraded.Str("redis").ShouldBe("degraded");
        degraded.Str("status").ShouldBe("degraded");
        degraded.Str("database").ShouldBe("ok");
        fallbacks.ShouldBeGreaterThanOrEqualTo(5);
        app.Scalar("SELECT COUNT(*) FROM alerts").ShouldBe(6);
        app.Logs.Events.ShouldContain(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Text.Contains("Redis is unavailable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_instance_starts_and_answers_while_redis_cannot_be_reached()
    {
        TestRedis.Address();
        var app = Start([("REDIS_URL", $"127.0.0.1:{OwnRedisServer.FreePort()}"), ("RATE_LIMIT_PER_MINUTE", "2")]);
        var client = app.Client();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.PostFeedbackAsync(new { text = $"{Complaint} Number {i}." })).StatusCode);
        }

        // The limit still holds, counted by this instance alone.
        statuses.ShouldBe([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests]);
        (await HealthAsync(app)).Str("redis").ShouldBe("degraded");
    }

    [Fact]
    public async Task Redis_holds_digests_and_counters_but_never_the_submitted_text()
    {
        var llm = await StartLlmAsync();

        // A bucket key expires (in Redis's own time) once the bucket would be full again: at 100 a minute that was
        // 0.6 s after the request, and a busy machine often listed the keys later than that. At one a minute the key
        // lives a minute, and the connection that lists the keys is opened before the request.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestRedis.Address());
        var app = Start([.. LlmSettings(llm), ("RATE_LIMIT_PER_MINUTE", "1")]);
        (await app.Client().PostFeedbackAsync(new { text = Complaint })).StatusCode.ShouldBe(HttpStatusCode.Created);

        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var keys = server.Keys(pattern: _prefix + "*").ToList();
        var values = new List<string>();
        foreach (var key in keys)
        {
            var type = await redis.GetDatabase().KeyTypeAsync(key);
            values.Add(type == RedisType.String ? (string?)await redis.GetDatabase().StringGetAsync(key) ?? "" : type.ToString());
        }

        keys.ShouldContain(k => k.ToString().StartsWith(_prefix + "answer:", StringComparison.Ordinal));
        keys.ShouldContain(k => k.ToString().StartsWith(_prefix + "rate:", StringComparison.Ordinal));
        keys.ShouldContain(k => k.ToString().StartsWith(_prefix + "alert-band:bug:", StringComparison.Ordinal));
        string.Join('\n', keys.Select(k => k.ToString()).Concat(values)).ShouldNotContain("photo", Case.Insensitive);
    }

    [Theory]
    [InlineData("redis://:s3cret@cache.internal:6380/2", "cache.internal:6380", "s3cret", 2, false)]
    [InlineData("rediss://app:p%40ss@cache.internal", "cache.internal:6379", "p@ss", null, true)]
    [InlineData("cache.internal:6390,password=pw,defaultDatabase=5", "cache.internal:6390", "pw", 5, false)]
    public void Redis_urls_are_read_in_both_forms(string url, string endpoint, string password, int? database, bool tls)
    {
        var options = RedisLink.ParseUrl(url);

        options.EndPoints.ShouldHaveSingleItem().ToString()!.ShouldEndWith(endpoint);
        options.Password.ShouldBe(password);
        options.DefaultDatabase.ShouldBe(database);
        options.Ssl.ShouldBe(tls);
        options.AbortOnConnectFail.ShouldBeFalse();
    }

    [Theory]
    [InlineData("redis://cache.internal:6379/zero")]
    [InlineData("redis://")]
    [InlineData("http://cache.internal:6379")]
    public void A_bad_redis_url_stops_the_start_with_a_message_naming_it(string url)
    {
        var settings = new RedisOptions { RedisUrl = url };

        var result = new FailuresValidator<RedisOptions>(s => s.Failures()).Validate(null, settings);

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain("REDIS_URL");
    }

    private FeedbackApp Start(
        (string Key, string Value)[] settings, TimeProvider? time = null, Action<IServiceCollection>? services = null, StoreKind store = StoreKind.Sqlite)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REDIS_URL"] = TestRedis.Url(),
            ["REDIS_KEY_PREFIX"] = _prefix,
            ["Logging:LogLevel:Feedback.Api.Redis"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var app = new FeedbackApp(all, time, store: store) { TestServices = services };
        _disposables.Add(app);
        return app;
    }

    /// <summary>Completes <paramref name="refused"/> when this host is refused the "asking" mark of a text.</summary>
    private static void WatchClaims(IServiceCollection services, TaskCompletionSource refused)
    {
        var real = services.Single(d => d.ServiceType == typeof(ISharedAnswers));
        services.Remove(real);
        services.AddSingleton<ISharedAnswers>(sp => new WatchedAnswers((ISharedAnswers)real.ImplementationFactory!(sp), refused));
    }

    private async Task<FakeOpenAiServer> StartLlmAsync()
    {
        var llm = await FakeOpenAiServer.StartAsync();
        _disposables.Add(llm);
        return llm;
    }

    private static (string, string)[] LlmSettings(FakeOpenAiServer llm) =>
    [
        ("OPENAI_BASE_URL", llm.BaseUrl.ToString()), ("OPENAI_API_KEY", "sk-test"), ("OPENAI_MODEL", "test-model"), ("AI_DEADLINE_MS", "10000"),
    ];

    /// <summary>Why an instance went on alone, if it did: what a failing sharing test should say.</summary>
    private static string RedisWarnings(params FeedbackApp[] apps) =>
        string.Join('\n', apps.SelectMany(a => a.Logs.Events).Where(e => e.Category.StartsWith("Feedback.Api.Redis", StringComparison.Ordinal)).Select(e => e.Text));

    private static string SharedKey(FeedbackApp app)
    {
        const string Sql = "SELECT dedup_key FROM alert_groups WHERE topic = 'bug'";
        if (app.Database is { } database)
        {
            using var postgres = database.Open();
            using var query = new Npgsql.NpgsqlCommand(Sql, postgres);
            return (string)query.ExecuteScalar()!;
        }

        using var connection = app.OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = Sql;
        return (string)command.ExecuteScalar()!;
    }

    private static async Task<JsonElement> HealthAsync(FeedbackApp app) =>
        await (await app.Client(key: null).GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

    private static async Task<PrometheusText> ScrapeAsync(FeedbackApp app)
    {
        using var response = await app.Client(key: null).GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("The condition the test waited for never came true.");
    }

    /// <summary>The real Redis-backed answers, reporting when a claim was refused.</summary>
    private sealed class WatchedAnswers(ISharedAnswers real, TaskCompletionSource refused) : ISharedAnswers
    {
        public ValueTask<Classification?> GetAsync(CacheKey key) => real.GetAsync(key);

        public ValueTask SetAsync(CacheKey key, Classification value) => real.SetAsync(key, value);

        public async ValueTask<bool> TryClaimAsync(CacheKey key, TimeSpan expiry)
        {
            var claimed = await real.TryClaimAsync(key, expiry);
            if (!claimed)
            {
                refused.TrySetResult();
            }

            return claimed;
        }

        public ValueTask ReleaseAsync(CacheKey key) => real.ReleaseAsync(key);
    }
}
