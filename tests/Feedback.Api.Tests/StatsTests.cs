using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>GET /stats on each store.</summary>
public abstract class StatsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 9, 15, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FeedbackApp _app;

    protected StatsTests(StoreKind store) => _app = new FeedbackApp(time: _time, store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Stats_count_messages_per_sentiment_topic_and_method()
    {
        await PostAsync("The app crashes every time I open it. Terrible, I lost all my data.");
        await PostAsync("I love this app, it is wonderful and so easy to use. Thank you!");
        await PostAsync("I was charged twice this month, please refund me immediately. Unacceptable.");
        await PostAsync("ok");

        var stats = await GetAsync("?from=2026-11-01&to=2026-11-02");

        stats.GetProperty("total").GetInt64().ShouldBe(4);
        stats.GetProperty("sentiment").EnumerateObject().Sum(p => p.Value.GetInt64()).ShouldBe(4);
        stats.GetProperty("sentiment").GetProperty("positive").GetInt64().ShouldBe(1);
        stats.GetProperty("topic").GetProperty("billing").GetInt64().ShouldBe(1);
        stats.GetProperty("topic_sentiment").GetProperty("billing").GetProperty("negative").GetInt64().ShouldBe(1);
        stats.GetProperty("processing_method").GetProperty("ml_fallback").GetInt64().ShouldBe(3);
        stats.GetProperty("processing_method").GetProperty("validation").GetInt64().ShouldBe(1);
        stats.GetProperty("method_share").GetProperty("ml_fallback").GetDouble().ShouldBe(1.0);
        stats.GetProperty("method_share").GetProperty("ai").GetDouble().ShouldBe(0.0);
    }

    [Fact]
    public async Task Stats_put_each_message_in_its_hour_and_fill_empty_hours_with_zero()
    {
        await PostAsync("First message about the product, in the nine o'clock hour.");
        _time.Advance(TimeSpan.FromHours(2));
        await PostAsync("Second message about the product, two hours later.");
        await PostAsync("Third message about the product, in the same hour.");

        var stats = await GetAsync("?from=2026-11-01T09:00:00Z&to=2026-11-01T12:00:00Z&bucket=hour");

        var series = stats.GetProperty("series").EnumerateArray().ToList();
        series.Select(b => b.GetProperty("start").GetDateTime()).ShouldBe(
            [new DateTime(2026, 11, 1, 9, 0, 0), new DateTime(2026, 11, 1, 10, 0, 0), new DateTime(2026, 11, 1, 11, 0, 0)]);
        series.Select(b => b.GetProperty("total").GetInt64()).ShouldBe([1L, 0L, 2L]);
    }

    [Fact]
    public async Task Stats_leave_out_messages_outside_the_range()
    {
        await PostAsync("A message from the first of November about billing.");
        _time.Advance(TimeSpan.FromDays(3));
        await PostAsync("A message from the fourth of November about billing.");

        var stats = await GetAsync("?from=2026-11-03&to=2026-11-05&bucket=day");

        stats.GetProperty("total").GetInt64().ShouldBe(1);
        stats.GetProperty("series").GetArrayLength().ShouldBe(2);
    }

    [Fact]
    public async Task Stats_count_triggered_and_open_alerts()
    {
        await PostAsync("The app crashes every time I open it. Terrible, I lost all my data.");
        await PostAsync("I love this app, it is wonderful and so easy to use. Thank you!");

        var alerts = (await GetAsync("?from=2026-11-01&to=2026-11-02")).GetProperty("alerts");

        alerts.GetProperty("triggered").GetInt64().ShouldBe(1);
        alerts.GetProperty("open").GetInt64().ShouldBe(1);
    }

    [Theory]
    [InlineData("?bucket=week", "bucket")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?to=soon", "to")]
    [InlineData("?from=2026-11-05&to=2026-11-01", "to")]
    [InlineData("?from=2999-01-01", "from")]
    [InlineData("?from=2020-01-01&to=2026-01-01&bucket=hour", "bucket")]
    public async Task Invalid_stats_parameters_are_400_naming_the_parameter(string query, string parameter)
    {
        var response = await _app.Client().GetAsync(new Uri("/stats" + query, UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(parameter, out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Stats_need_an_api_key()
    {
        var response = await _app.Client(key: null).GetAsync(new Uri("/stats", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private async Task PostAsync(string text)
    {
        var response = await _app.Client().PostFeedbackAsync(new { text });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    private async Task<JsonElement> GetAsync(string query)
    {
        var response = await _app.Client().GetAsync(new Uri("/stats" + query, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }
}

public sealed class StatsOnSqliteTests() : StatsTests(StoreKind.Sqlite);

public sealed class StatsOnPostgresTests() : StatsTests(StoreKind.Postgres);
