using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Feedback.Api.Dashboard;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using StackExchange.Redis;

namespace Feedback.Api.Tests;

/// <summary>
/// /dashboard/events: notices pushed from the writer's commits (and, with Redis, another instance's), no store query
/// while nothing happens, and a cap on open streams that keeps them out of the load-shedding budget.
/// </summary>
public sealed class DashboardEventsTests : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _disposables = [];

    public async ValueTask DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task A_notice_arrives_after_a_post()
    {
        var app = Start();
        var stream = await OpenAsync(app.Client());
        var first = await stream.NextAsync();

        (await app.Client().PostFeedbackAsync(new { text = "The export button does nothing." })).StatusCode.ShouldBe(HttpStatusCode.Created);

        (await stream.NextAsync()).ShouldBeGreaterThan(first);
    }

    [Fact]
    public async Task An_idle_stream_asks_the_store_nothing()
    {
        var app = Track(new FeedbackApp
        {
            TestServices = services => services.AddHttpContextAccessor(),
        });
        var queries = new StreamQueries(app);
        _disposables.Add(queries);

        var stream = await OpenAsync(app.Client());
        await stream.NextAsync();

        // Long enough for a poll once a second to have asked several times; the assertion holds at any speed.
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);
        queries.Count.ShouldBe(0);
    }

    [Fact]
    public async Task Streams_past_the_cap_of_one_key_are_429_and_open_streams_take_no_shedding_slot()
    {
        var app = Start(("DASHBOARD_STREAMS_PER_KEY", "2"), ("MAX_CONCURRENT_REQUESTS", "1"));
        var held = new[] { await OpenAsync(app.Client()), await OpenAsync(app.Client()) };

        using var third = await app.Client().GetAsync(new Uri("/dashboard/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        third.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        third.Headers.RetryAfter.ShouldNotBeNull();
        (await third.JsonAsync()).Str("type").ShouldBe("/problems/too-many-streams");

        // Two streams are open and only one request may be in flight, yet reads still get through.
        (await app.Client().GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Another key has its own share.
        await OpenAsync(app.Client(FeedbackApp.SecondKey));

        // A closed stream gives its slot back.
        await held[0].DisposeAsync();
        await EventuallyOpensAsync(app.Client());
    }

    [Fact]
    public async Task Streams_past_the_cap_of_one_address_are_429_whatever_the_key()
    {
        var app = Start(("DASHBOARD_STREAMS_PER_ADDRESS", "1"));
        await OpenAsync(app.Client(), from: "203.0.113.7");

        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/events").From("203.0.113.7");
        request.Headers.Add("X-API-Key", FeedbackApp.SecondKey);
        using var second = await app.CreateDefaultClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        second.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        await OpenAsync(app.Client(FeedbackApp.SecondKey), from: "198.51.100.9");
    }

    [Fact]
    public async Task With_redis_a_notice_arrives_for_a_write_on_the_other_instance()
    {
        using var database = PostgresDatabase.Create();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REDIS_URL"] = TestRedis.Url(),
            ["REDIS_KEY_PREFIX"] = TestRedis.NewPrefix(),
        };
        var watched = Track(new FeedbackApp(database, settings));
        var written = Track(new FeedbackApp(database, settings));
        var stream = await OpenAsync(watched.Client());
        var first = await stream.NextAsync();

        (await WriteUntilAnnouncedAsync(written, stream)).ShouldBeGreaterThan(first);
    }

    [Fact]
    public async Task A_change_whose_publish_failed_is_announced_once_redis_answers_again()
    {
        // A Redis of the test's own, since pausing it holds every client's writes.
        using var redis = await OwnRedisServer.StartAsync();
        using var database = PostgresDatabase.Create();
        var prefix = TestRedis.NewPrefix();
        var watched = Track(new FeedbackApp(database, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REDIS_URL"] = $"{redis.Address},syncTimeout=5000,asyncTimeout=5000",
            ["REDIS_KEY_PREFIX"] = prefix,
        }));

        // Short timeouts on the writing instance, so that a paused Redis fails its publish instead of delaying it.
        var written = Track(new FeedbackApp(database, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REDIS_URL"] = $"{redis.Address},syncTimeout=300,asyncTimeout=300",
            ["REDIS_KEY_PREFIX"] = prefix,
        }));
        var stream = await OpenAsync(watched.Client());
        await stream.NextAsync();
        var announced = await WriteUntilAnnouncedAsync(written, stream);

        // Redis holds every write command, PUBLISH among them, for five seconds: the publish after this commit fails.
        // Nothing else is written afterwards, so only a publish tried again can bring the notice.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.Address},allowAdmin=true"))
        {
            await admin.GetServer(redis.Address).ExecuteAsync("CLIENT", "PAUSE", "5000", "WRITE");
        }

        (await written.Client().PostFeedbackAsync(new { text = "The weekly report now loads instantly, great work." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await stream.NextAsync()).ShouldBeGreaterThan(announced);
    }

    /// <summary>
    /// The relays subscribe in the background and a write before that is not announced, so the other instance keeps
    /// writing (words that raise no alert, so the watched instance's dispatcher has nothing to commit) until a notice
    /// arrives; returns its version.
    /// </summary>
    private static Task<long> WriteUntilAnnouncedAsync(FeedbackApp written, EventStream stream) =>
        written.Client().PostUntilAsync("I love the new export feature, thank you!", stream.NextAsync, TestContext.Current.CancellationToken);

    private async Task EventuallyOpensAsync(HttpClient client)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await client.GetAsync(new Uri("/dashboard/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                _disposables.Add(new EventStream(response));
                return;
            }

            response.Dispose();

            // The server ends the closed stream once it notices the abort; the bound only ends a broken test.
            attempt.ShouldBeLessThan(600);
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private async Task<EventStream> OpenAsync(HttpClient client, string? from = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/events");
        if (from is not null)
        {
            request.From(from);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var stream = new EventStream(response);
        _disposables.Add(stream);
        return stream;
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings) =>
        Track(new FeedbackApp(settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal)) { TestServices = TestPeer.Add });

    private FeedbackApp Track(FeedbackApp app)
    {
        _disposables.Add(app);
        return app;
    }

    /// <summary>Reads 'changed' notices off an open stream.</summary>
    private sealed class EventStream(HttpResponseMessage response) : IAsyncDisposable
    {
        private StreamReader? _reader;

        public async Task<long> NextAsync()
        {
            _reader ??= new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));

            // The bound only ends a broken test (a notice that never comes) instead of hanging the run.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            bound.CancelAfter(TimeSpan.FromMinutes(1));
            string? eventName = null;
            while (await _reader.ReadLineAsync(bound.Token) is { } line)
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    eventName = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal) && eventName == "changed")
                {
                    return JsonDocument.Parse(line["data:".Length..]).RootElement.GetProperty("version").GetInt64();
                }
            }

            throw new EndOfStreamException("The event stream ended.");
        }

        public ValueTask DisposeAsync()
        {
            _reader?.Dispose();
            response.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Counts the EF Core commands run while serving a /dashboard/events request of this app (not its background work,
    /// and not other tests' apps), from EF Core's diagnostic events.
    /// </summary>
    private sealed class StreamQueries : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IAsyncDisposable
    {
        private readonly ChangeFeed _feed;
        private readonly IHttpContextAccessor _requests;
        private readonly IDisposable _listeners;
        private readonly List<IDisposable> _subscriptions = [];
        private int _count;

        public StreamQueries(FeedbackApp app)
        {
            _feed = app.Services.GetRequiredService<ChangeFeed>();
            _requests = app.Services.GetRequiredService<IHttpContextAccessor>();
            _listeners = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public int Count => Volatile.Read(ref _count);

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.EntityFrameworkCore")
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == "Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting"
                && _requests.HttpContext is { } context
                && context.Request.Path.StartsWithSegments("/dashboard/events")
                && ReferenceEquals(context.RequestServices.GetService<ChangeFeed>(), _feed))
            {
                Interlocked.Increment(ref _count);
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public ValueTask DisposeAsync()
        {
            _listeners.Dispose();
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
            }

            return ValueTask.CompletedTask;
        }
    }
}
