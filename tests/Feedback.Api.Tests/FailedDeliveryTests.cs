using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Deliveries that fail for good, against a webhook receiver on loopback answering 410 or 500, on each store (the
/// outbox is the store's): parked as failed, shown in /alerts and counted, and sent again when an operator asks.
/// </summary>
public abstract class FailedDeliveryTests(StoreKind store) : IAsyncLifetime
{
    private const string Complaint = "The app crashes every time I upload a photo and I lost my whole album.";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private readonly List<FeedbackApp> _apps = [];
    private RecordingReceiver _hook = null!;

    public async ValueTask InitializeAsync() => _hook = await RecordingReceiver.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _hook.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_410_parks_the_delivery_as_failed_at_once_and_a_retry_by_hand_delivers_it()
    {
        _hook.Answer = () => new ReceiverAnswer(410);
        var app = Start();
        await app.Client().PostFeedbackAsync(new { text = Complaint });

        var failed = await DeliveryAsync(app, d => d.GetProperty("state").GetString() == "failed");

        failed.GetProperty("channel").GetString().ShouldBe("webhook");
        failed.GetProperty("attempts").GetInt32().ShouldBe(1);
        failed.GetProperty("last_error").GetString().ShouldBe("HTTP 410");
        for (var i = 0; i < 20; i++)
        {
            await AdvanceAsync(TimeSpan.FromMinutes(1));
        }

        _hook.Requests.Count.ShouldBe(1);
        var scrape = await ScrapeAsync(app);
        scrape.Sum("alert_deliveries_failed_total", ("channel", "webhook")).ShouldBe(1);
        scrape.Sum("alerts_retried_total", ("channel", "webhook")).ShouldBe(0);

        _hook.Answer = () => ReceiverAnswer.Ok;
        var groupId = (await AlertsAsync(app)).ShouldHaveSingleItem().GetProperty("id").GetInt64();
        var retry = await app.Client().PostAsync(new Uri($"/alerts/{groupId}/retry", UriKind.Relative), null, TestContext.Current.CancellationToken);
        retry.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await retry.JsonAsync()).GetProperty("deliveries")[0].GetProperty("state").GetString().ShouldBe("pending");

        var delivered = await DeliveryAsync(app, d => d.GetProperty("state").GetString() == "delivered");
        _hook.Accepted.Count.ShouldBe(1);
        _hook.Requests.Count.ShouldBe(2);
        delivered.GetProperty("attempts").GetInt32().ShouldBe(1);
        (await app.Client().PostAsync(new Uri($"/alerts/{groupId}/retry", UriKind.Relative), null, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_500_is_retried_until_the_attempt_limit_and_then_parked_as_failed()
    {
        _hook.Answer = () => new ReceiverAnswer(500);
        var app = Start(("ALERT_MAX_ATTEMPTS", "3"));
        await app.Client().PostFeedbackAsync(new { text = Complaint });

        var failed = await DeliveryAsync(app, d => d.GetProperty("state").GetString() == "failed");

        failed.GetProperty("attempts").GetInt32().ShouldBe(3);
        failed.GetProperty("last_error").GetString().ShouldBe("HTTP 500");
        for (var i = 0; i < 20; i++)
        {
            await AdvanceAsync(TimeSpan.FromMinutes(1));
        }

        _hook.Requests.Count.ShouldBe(3);
        var scrape = await ScrapeAsync(app);
        scrape.Sum("alert_deliveries_failed_total", ("channel", "webhook")).ShouldBe(1);
        scrape.Sum("alerts_failed_total", ("channel", "webhook")).ShouldBe(3);
        scrape.Sum("alerts_retried_total", ("channel", "webhook")).ShouldBe(2);
        app.Scalar("SELECT COUNT(*) FROM alert_deliveries WHERE state = 'pending'").ShouldBe(0);
    }

    [Fact]
    public async Task Retrying_a_group_that_does_not_exist_is_a_404_and_needs_an_admin_key()
    {
        var app = Start();

        (await app.Client().PostAsync(new Uri("/alerts/999999/retry", UriKind.Relative), null, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.Client(key: null).PostAsync(new Uri("/alerts/999999/retry", UriKind.Relative), null, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ALERT_WEBHOOK_URL"] = _hook.Url.ToString(),
            ["ALERT_SEND_INTERVAL_MS"] = "0",
            ["ALERT_POLL_SECONDS"] = "1",
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

    /// <summary>Waits until the only group's only delivery matches, moving the clock a second at a time (the back-off runs on it).</summary>
    private async Task<JsonElement> DeliveryAsync(FeedbackApp app, Func<JsonElement, bool> condition)
    {
        for (var i = 0; i < 600; i++)
        {
            var groups = await AlertsAsync(app);
            if (groups.Count == 1 && groups[0].GetProperty("deliveries").EnumerateArray().ToList() is [var delivery] && condition(delivery))
            {
                return delivery;
            }

            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        throw new TimeoutException("The delivery never reached the state the test waited for.");
    }

    private async Task AdvanceAsync(TimeSpan by)
    {
        _time.Advance(by);
        await Task.Delay(20);
    }

    private static async Task<List<JsonElement>> AlertsAsync(FeedbackApp app)
    {
        var response = await app.Client().GetAsync(new Uri("/alerts", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.JsonAsync()).GetProperty("items").EnumerateArray()];
    }

    private static async Task<PrometheusText> ScrapeAsync(FeedbackApp app)
    {
        using var response = await app.Client(key: null).GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}

// They read counters by name, which every host in the process adds to: they run with the metrics tests, alone.
[Collection(typeof(MetricsCollection))]
public sealed class FailedDeliveryOnSqliteTests() : FailedDeliveryTests(StoreKind.Sqlite);

[Collection(typeof(MetricsCollection))]
public sealed class FailedDeliveryOnPostgresTests() : FailedDeliveryTests(StoreKind.Postgres);
