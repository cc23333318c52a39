using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>Idempotency on each store (the PostgreSQL one also settles keys through its unique index).</summary>
public abstract class IdempotencyTests : IDisposable
{
    private const string Complaint = "I was charged twice for my subscription this month and nobody answers my emails.";

    private readonly FeedbackApp _app;

    protected IdempotencyTests(StoreKind store) => _app = new FeedbackApp(store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task The_same_key_and_body_return_the_same_stored_result_without_a_second_row()
    {
        var client = _app.Client();

        var first = await client.PostFeedbackAsync(new { text = Complaint }, "order-1");
        var second = await client.PostFeedbackAsync(new { text = Complaint }, "order-1");

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        second.StatusCode.ShouldBe(HttpStatusCode.Created);
        var a = await first.JsonAsync();
        var b = await second.JsonAsync();
        b.GetProperty("id").GetInt64().ShouldBe(a.GetProperty("id").GetInt64());
        b.GetProperty("created_at").GetDateTime().ShouldBe(a.GetProperty("created_at").GetDateTime());
        second.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
    }

    [Fact]
    public async Task A_replayed_complaint_raises_no_second_alert()
    {
        var client = _app.Client();

        var first = await (await client.PostFeedbackAsync(new { text = Complaint }, "retry-me")).JsonAsync();
        await client.PostFeedbackAsync(new { text = Complaint }, "retry-me");
        await client.PostFeedbackAsync(new { text = Complaint }, "retry-me");

        first.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        _app.Scalar("SELECT COUNT(*) FROM alerts").ShouldBe(1);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_422_and_stores_nothing_new()
    {
        var client = _app.Client();
        await client.PostFeedbackAsync(new { text = Complaint }, "order-2");

        var reused = await client.PostFeedbackAsync(new { text = "A completely different message about the dashboard." }, "order-2");

        reused.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await reused.JsonAsync()).Str("type").ShouldBe("/problems/idempotency-key-reused");
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_store_one_row()
    {
        var client = _app.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => client.PostFeedbackAsync(new { text = Complaint }, "burst")));

        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => (await r.JsonAsync()).GetProperty("id").GetInt64()));
        ids.Distinct().ShouldHaveSingleItem();
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
        _app.Scalar("SELECT COUNT(*) FROM alerts").ShouldBe(1);
    }

    [Fact]
    public async Task Different_keys_store_different_rows()
    {
        var client = _app.Client();

        await client.PostFeedbackAsync(new { text = Complaint }, "a");
        await client.PostFeedbackAsync(new { text = Complaint }, "b");
        await client.PostFeedbackAsync(new { text = Complaint });

        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(3);
    }

    [Fact]
    public async Task Two_api_keys_using_the_same_idempotency_key_do_not_collide()
    {
        var first = await (await _app.Client(FeedbackApp.Key).PostFeedbackAsync(new { text = Complaint }, "shared")).JsonAsync();
        var second = await (await _app.Client(FeedbackApp.SecondKey).PostFeedbackAsync(new { text = Complaint }, "shared")).JsonAsync();

        second.GetProperty("id").GetInt64().ShouldNotBe(first.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task A_replay_after_a_restart_still_returns_the_stored_result()
    {
        var first = await (await _app.Client().PostFeedbackAsync(new { text = Complaint }, "durable")).JsonAsync();

        using var restarted = _app.Restart();
        var replay = await (await restarted.Client().PostFeedbackAsync(new { text = Complaint }, "durable")).JsonAsync();

        replay.GetProperty("id").GetInt64().ShouldBe(first.GetProperty("id").GetInt64());
        restarted.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
    }

    [Theory]
    [InlineData("key with\ttab")]
    [InlineData("key-with-é")]
    [InlineData("an-overlong-key-0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task An_unusable_idempotency_key_is_400(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/feedback") { Content = System.Net.Http.Json.JsonContent.Create(new { text = Complaint }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        var response = await _app.Client().SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }
}

public sealed class IdempotencyOnSqliteTests() : IdempotencyTests(StoreKind.Sqlite);

public sealed class IdempotencyOnPostgresTests() : IdempotencyTests(StoreKind.Postgres);
