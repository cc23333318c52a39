using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// POST /feedback/batch costs what its items would cost sent one by one (issue 21 item 3): a rate-limit token and the
/// 64 KiB limit per item, and an idempotency key per item so that a retried batch stores nothing twice.
/// </summary>
public abstract class BatchHardeningTests : IDisposable
{
    private const string Complaint = "The app crashes every time I open it. Terrible, I lost all my data.";
    private const string Praise = "I love this app, it is wonderful and so easy to use. Thank you!";

    private readonly FeedbackApp _app;

    protected BatchHardeningTests(StoreKind store) => _app = new FeedbackApp(store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_retried_batch_with_item_keys_stores_nothing_twice_and_answers_the_stored_results()
    {
        var batch = new
        {
            items = new object[]
            {
                new { text = Complaint, idempotency_key = "order-1" },
                new { text = Praise, idempotency_key = "order-2" },
                new { text = "A message sent without a key about the export feature." },
            },
        };

        var first = await (await PostAsync(batch)).JsonAsync();
        var alerts = _app.Scalar("SELECT count(*) FROM alerts");
        var retried = await PostAsync(batch);

        retried.StatusCode.ShouldBe(HttpStatusCode.OK);
        var again = await retried.JsonAsync();
        var firstItems = first.GetProperty("items").EnumerateArray().ToList();
        var againItems = again.GetProperty("items").EnumerateArray().ToList();
        againItems.Select(i => i.GetProperty("status").GetInt32()).ShouldBe([201, 201, 201]);
        Id(againItems[0]).ShouldBe(Id(firstItems[0]));
        Id(againItems[1]).ShouldBe(Id(firstItems[1]));
        Id(againItems[2]).ShouldNotBe(Id(firstItems[2]));
        againItems[0].GetProperty("replayed").GetBoolean().ShouldBeTrue();
        againItems[2].TryGetProperty("replayed", out _).ShouldBeFalse();
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(4);
        _app.Scalar("SELECT count(*) FROM alerts").ShouldBe(alerts);
    }

    [Fact]
    public async Task An_item_key_sent_before_with_another_text_is_422_for_that_item_only()
    {
        await PostAsync(new { items = new object[] { new { text = Complaint, idempotency_key = "order-3" } } });

        var body = await (await PostAsync(new
        {
            items = new object[]
            {
                new { text = "A different message about the login page.", idempotency_key = "order-3" },
                new { text = Praise, idempotency_key = "order-4" },
            },
        })).JsonAsync();

        var items = body.GetProperty("items").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("status").GetInt32()).ShouldBe([422, 201]);
        items[0].GetProperty("error").Str("type").ShouldBe("/problems/idempotency-key-reused");
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(2);
    }

    [Fact]
    public async Task A_key_sent_as_a_single_posts_header_is_the_same_key_in_a_batch_item()
    {
        await _app.Client().PostFeedbackAsync(new { text = Complaint }, "shared-key");

        var batch = await (await PostAsync(new { items = new object[] { new { text = Praise, idempotency_key = "shared-key" } } })).JsonAsync();

        var item = batch.GetProperty("items")[0];
        item.GetProperty("status").GetInt32().ShouldBe(422);
        item.GetProperty("error").Str("type").ShouldBe("/problems/idempotency-key-reused");
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("42")]
    [InlineData("\"key with\\ttab\"")]
    public async Task An_unusable_item_key_is_400_for_that_item_and_nothing_of_it_is_stored(string key)
    {
        var body = await (await PostRawAsync($$"""{"items": [{"text": "{{Complaint}}", "idempotency_key": {{key}}}, {"text": "{{Praise}}"}]}""")).JsonAsync();

        var items = body.GetProperty("items").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("status").GetInt32()).ShouldBe([400, 201]);
        items[0].GetProperty("error").GetProperty("errors").TryGetProperty("idempotency_key", out _).ShouldBeTrue();
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
    }

    [Fact]
    public async Task An_item_over_64_KiB_is_413_for_that_item_and_the_others_are_stored()
    {
        var body = await (await PostAsync(new
        {
            items = new object[] { new { text = new string('a', 64 * 1024) }, new { text = Praise } },
        })).JsonAsync();

        var items = body.GetProperty("items").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("status").GetInt32()).ShouldBe([413, 201]);
        items[0].GetProperty("error").Str("type").ShouldBe("/problems/payload-too-large");
        body.GetProperty("failed").GetInt32().ShouldBe(1);
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(1);
        _app.Scalar("SELECT max(length(text)) FROM feedback").ShouldBeLessThan(1000);
    }

    private Task<HttpResponseMessage> PostAsync(object body) =>
        _app.Client().PostAsJsonAsync(new Uri("/feedback/batch", UriKind.Relative), body, TestContext.Current.CancellationToken);

    private Task<HttpResponseMessage> PostRawAsync(string body) =>
        _app.Client().PostAsync(new Uri("/feedback/batch", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    private static long Id(JsonElement item) => item.GetProperty("result").GetProperty("id").GetInt64();
}

public sealed class BatchHardeningOnSqliteTests() : BatchHardeningTests(StoreKind.Sqlite);

public sealed class BatchHardeningOnPostgresTests() : BatchHardeningTests(StoreKind.Postgres);

/// <summary>Each item of a batch takes a token from its key's bucket, as a POST /feedback of its own would.</summary>
public sealed class BatchRateLimitTests : IDisposable
{
    // The clock stands still, so no token comes back while a test runs.
    private readonly FeedbackApp _app = new(
        new Dictionary<string, string>(StringComparer.Ordinal) { ["RATE_LIMIT_PER_MINUTE"] = "5" }, new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero)));

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_batch_of_more_items_than_tokens_is_429_and_stores_nothing()
    {
        var response = await PostAsync(6);

        response.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter.ShouldNotBeNull();
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/rate-limited");
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_batch_of_four_items_leaves_one_token_for_the_next_request()
    {
        var batch = await PostAsync(4);
        var fifth = await _app.Client().PostFeedbackAsync(new { text = "The fifth message of this minute." });
        var sixth = await _app.Client().PostFeedbackAsync(new { text = "The sixth message of this minute." });

        batch.StatusCode.ShouldBe(HttpStatusCode.OK);
        fifth.StatusCode.ShouldBe(HttpStatusCode.Created);
        sixth.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(5);
    }

    private Task<HttpResponseMessage> PostAsync(int items) => _app.Client().PostAsJsonAsync(
        new Uri("/feedback/batch", UriKind.Relative),
        new { items = Enumerable.Range(0, items).Select(i => new { text = $"Message number {i} about the product." }) },
        TestContext.Current.CancellationToken);
}
