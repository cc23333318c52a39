using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>POST /feedback/batch on each store.</summary>
public abstract class BatchTests : IDisposable
{
    private readonly FeedbackApp _app;

    protected BatchTests(StoreKind store) => _app = new FeedbackApp(store: store);

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_batch_stores_every_valid_item_and_answers_in_input_order()
    {
        var response = await PostAsync(new
        {
            items = new object[]
            {
                new { text = "The app crashes every time I open it. Terrible, I lost all my data.", source = "email" },
                new { text = "I love this app, it is wonderful and so easy to use. Thank you!", customer_id = "c-7", metadata = new { plan = "pro" } },
                new { text = "I was charged twice this month, please refund me immediately." },
            },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.GetProperty("created").GetInt32().ShouldBe(3);
        body.GetProperty("failed").GetInt32().ShouldBe(0);
        var items = body.GetProperty("items").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("index").GetInt32()).ShouldBe([0, 1, 2]);
        items.ShouldAllBe(i => i.GetProperty("status").GetInt32() == 201);
        items[0].GetProperty("result").Str("sentiment").ShouldBe("negative");
        items[1].GetProperty("result").Str("sentiment").ShouldBe("positive");
        items[2].GetProperty("result").Str("topic").ShouldBe("billing");
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(3);
        _app.Scalar("SELECT count(*) FROM feedback WHERE customer_id = 'c-7' AND metadata LIKE '%pro%'").ShouldBe(1);
        _app.Scalar("SELECT count(*) FROM alerts").ShouldBe(items.Count(i => i.GetProperty("result").GetProperty("alert_triggered").GetBoolean()));
    }

    [Fact]
    public async Task An_invalid_item_gets_its_own_error_and_the_others_are_still_stored()
    {
        var response = await PostAsync(new
        {
            items = new object[]
            {
                new { text = "A perfectly fine message about the export feature." },
                new { text = "   " },
                new { text = 42 },
                new { text = "Another fine message about the login page." },
            },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.GetProperty("created").GetInt32().ShouldBe(2);
        body.GetProperty("failed").GetInt32().ShouldBe(2);
        var items = body.GetProperty("items").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("status").GetInt32()).ShouldBe([201, 422, 400, 201]);
        items[1].GetProperty("error").GetProperty("errors").TryGetProperty("text", out _).ShouldBeTrue();
        items[2].GetProperty("error").Str("type").ShouldBe("/problems/invalid-field-type");
        items[1].TryGetProperty("result", out _).ShouldBeFalse();
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(2);
    }

    [Fact]
    public async Task A_batch_of_a_hundred_items_is_accepted_and_one_more_is_refused()
    {
        var hundred = await PostAsync(new { items = Enumerable.Range(0, 100).Select(i => new { text = $"Message number {i} about the product." }) });
        var tooMany = await PostAsync(new { items = Enumerable.Range(0, 101).Select(i => new { text = $"Message number {i} about the product." }) });

        hundred.StatusCode.ShouldBe(HttpStatusCode.OK);
        tooMany.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await tooMany.JsonAsync()).GetProperty("errors").TryGetProperty("items", out _).ShouldBeTrue();
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(100);
    }

    [Theory]
    [InlineData("{not json", HttpStatusCode.BadRequest, "/problems/invalid-json")]
    [InlineData("[]", HttpStatusCode.BadRequest, "/problems/invalid-field-type")]
    [InlineData("{\"items\": {}}", HttpStatusCode.BadRequest, "/problems/invalid-field-type")]
    [InlineData("{\"items\": []}", HttpStatusCode.UnprocessableEntity, "/problems/validation")]
    public async Task A_body_that_is_wrong_as_a_whole_is_one_problem_and_nothing_is_stored(string body, HttpStatusCode status, string type)
    {
        var response = await PostRawAsync(body, "application/json");

        response.StatusCode.ShouldBe(status);
        (await response.JsonAsync()).Str("type").ShouldBe(type);
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_batch_over_one_mebibyte_is_413()
    {
        var text = new string('a', 4000);
        var body = JsonSerializer.Serialize(new { items = Enumerable.Range(0, 100).Select(_ => new { text = text + text + text }) });

        var response = await PostRawAsync(body, "application/json");

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_batch_that_is_not_json_content_is_415()
    {
        var response = await PostRawAsync("items=1", "application/x-www-form-urlencoded");

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
    }

    private Task<HttpResponseMessage> PostAsync(object body) =>
        _app.Client().PostAsJsonAsync(new Uri("/feedback/batch", UriKind.Relative), body, TestContext.Current.CancellationToken);

    private Task<HttpResponseMessage> PostRawAsync(string body, string contentType) =>
        _app.Client().PostAsync(
            new Uri("/feedback/batch", UriKind.Relative),
            new StringContent(body, Encoding.UTF8, contentType),
            TestContext.Current.CancellationToken);
}

public sealed class BatchOnSqliteTests() : BatchTests(StoreKind.Sqlite);

public sealed class BatchOnPostgresTests() : BatchTests(StoreKind.Postgres);
