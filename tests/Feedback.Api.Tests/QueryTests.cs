using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The read endpoints on each store.</summary>
public abstract class QueryTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly FeedbackApp _app;

    protected QueryTests(StoreKind store) => _app = new FeedbackApp(time: _time, store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task An_unknown_id_is_a_404_problem()
    {
        var response = await _app.Client().GetAsync(new Uri("/feedback/999", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/not-found");
    }

    [Fact]
    public async Task The_list_is_newest_first()
    {
        var ids = await PostAllAsync("First message about the product.", "Second message about the product.", "Third message about the product.");

        var items = await ListAsync("");

        items.Select(i => i.GetProperty("id").GetInt64()).ShouldBe(ids.Reverse());
    }

    [Fact]
    public async Task The_list_filters_by_sentiment_topic_and_alert()
    {
        await PostAllAsync(
            "The app crashes every time I open it. Terrible, I lost all my data.",
            "I love this app, it is wonderful and so easy to use. Thank you!",
            "I was charged twice this month, please refund me immediately. Unacceptable.");

        var negative = await ListAsync("?sentiment=negative");
        var alerts = await ListAsync("?alert=true");
        var calm = await ListAsync("?alert=false");
        var billing = await ListAsync("?topic=billing");

        negative.ShouldNotBeEmpty();
        negative.ShouldAllBe(i => i.GetProperty("sentiment").GetString() == "negative");
        alerts.ShouldAllBe(i => i.GetProperty("alert_triggered").GetBoolean());
        calm.ShouldAllBe(i => !i.GetProperty("alert_triggered").GetBoolean());
        (alerts.Count + calm.Count).ShouldBe(3);
        billing.ShouldHaveSingleItem().GetProperty("text").GetString()!.ShouldContain("charged twice");
    }

    [Fact]
    public async Task The_list_filters_by_time_range_with_to_exclusive()
    {
        await PostAllAsync("Message sent on the first day of the month.");
        _time.Advance(TimeSpan.FromDays(1));
        await PostAllAsync("Message sent on the second day of the month.");
        _time.Advance(TimeSpan.FromDays(1));
        await PostAllAsync("Message sent on the third day of the month.");

        var second = await ListAsync("?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z");
        var fromSecond = await ListAsync("?from=2026-11-02");

        second.ShouldHaveSingleItem().GetProperty("text").GetString()!.ShouldContain("second day");
        fromSecond.Count.ShouldBe(2);
    }

    [Fact]
    public async Task The_cursor_pages_through_everything_once()
    {
        var ids = await PostAllAsync(Enumerable.Range(1, 7).Select(i => $"Feedback number {i} about the product.").ToArray());
        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;

        do
        {
            var page = await GetPageAsync($"?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);

        pages.ShouldBe(3);
        seen.ShouldBe(ids.Reverse());
    }

    [Fact]
    public async Task A_page_is_stable_when_new_messages_arrive_between_pages()
    {
        await PostAllAsync("Old message number one here.", "Old message number two here.", "Old message number three here.");
        var first = await GetPageAsync("?limit=2");
        await PostAllAsync("A brand new message arrives now.");

        var second = await GetPageAsync("?limit=2&cursor=" + first.GetProperty("next_cursor").GetString());

        second.GetProperty("items").EnumerateArray().ShouldHaveSingleItem().GetProperty("text").GetString().ShouldBe("Old message number one here.");
    }

    [Fact]
    public async Task Search_matches_words_case_insensitively_and_treats_wildcards_as_punctuation()
    {
        await PostAllAsync("The Export button does nothing on Safari.", "We get 100% CPU when syncing.", "Syncing is fine but exporting is slow.");

        var export = await ListAsync("?q=export");
        var exportPrefix = await ListAsync("?q=" + Uri.EscapeDataString("export*"));
        var percent = await ListAsync("?q=" + Uri.EscapeDataString("100%"));
        var wildcard = await _app.Client().GetAsync(new Uri("/feedback?q=" + Uri.EscapeDataString("%"), UriKind.Relative), TestContext.Current.CancellationToken);

        // Whole words since the search has an index; a trailing * asks for the prefix, and % is no wildcard.
        export.ShouldHaveSingleItem();
        exportPrefix.Count.ShouldBe(2);
        percent.ShouldHaveSingleItem();
        wildcard.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("?sentiment=angry", "sentiment")]
    [InlineData("?topic=pricing", "topic")]
    [InlineData("?alert=maybe", "alert")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1000", "limit")]
    [InlineData("?cursor=not-a-cursor", "cursor")]
    public async Task Invalid_query_parameters_are_400_naming_the_parameter(string query, string parameter)
    {
        var response = await _app.Client().GetAsync(new Uri("/feedback" + query, UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(parameter, out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Empty_parameters_as_in_the_contract_template_filter_nothing()
    {
        var ids = await PostAllAsync("First message about the product.", "The app crashes every time I open it. Terrible.");

        var items = await ListAsync("?sentiment=&topic=&alert=&from=&to=&q=&limit=&cursor=");

        items.Select(i => i.GetProperty("id").GetInt64()).ShouldBe(ids.Reverse());
    }

    private async Task<long[]> PostAllAsync(params string[] texts)
    {
        var ids = new List<long>();
        foreach (var text in texts)
        {
            var response = await _app.Client().PostFeedbackAsync(new { text });
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
            ids.Add((await response.JsonAsync()).GetProperty("id").GetInt64());
        }

        return [.. ids];
    }

    private async Task<JsonElement> GetPageAsync(string query)
    {
        var response = await _app.Client().GetAsync(new Uri("/feedback" + query, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    private async Task<List<JsonElement>> ListAsync(string query) =>
        [.. (await GetPageAsync(query)).GetProperty("items").EnumerateArray()];
}

public sealed class QueryOnSqliteTests() : QueryTests(StoreKind.Sqlite);

public sealed class QueryOnPostgresTests() : QueryTests(StoreKind.Postgres);
