using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The POST and GET contract on each store: what is stored and what is refused is the store's behaviour too.</summary>
public abstract class SubmissionTests : IDisposable
{
    private const string Complaint = "The app crashes every time I open it and I lost all my work. This is terrible.";
    private const string Praise = "I love this app, it is fast, beautiful and makes my day so much easier. Great job!";

    private readonly StoreKind _store;
    private readonly FeedbackApp _app;

    protected SubmissionTests(StoreKind store)
    {
        _store = store;
        _app = new FeedbackApp(store: store);
    }

    public void Dispose()
    {
        _app.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Valid_feedback_is_created_with_a_location_and_every_contract_field()
    {
        var response = await _app.Client().PostFeedbackAsync(new { text = Complaint, source = "email", customer_id = "c-42" });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        var id = body.GetProperty("id").GetInt64();
        response.Headers.Location!.ToString().ShouldBe($"/feedback/{id}");
        body.EnumerateObject().Select(p => p.Name).ShouldBe(
        [
            "id", "sentiment", "topic", "confidence_score", "alert_triggered", "processing_method", "created_at",
            "confidence", "scores", "topics", "language", "prompt_version", "model", "status", "warnings",
        ]);
        body.Str("sentiment").ShouldBeOneOf("positive", "negative", "neutral", "mixed");
        body.Str("topic").ShouldBeOneOf("bug", "feature_request", "billing", "performance", "ux", "general");
        body.Str("processing_method").ShouldBe("ml_fallback");
        body.Str("status").ShouldBe("final");
        body.GetProperty("warnings").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Every_answer_scores_each_configured_topic_and_the_topic_is_the_highest_on_post_and_get()
    {
        var created = await (await _app.Client().PostFeedbackAsync(new { text = "I was charged twice for my subscription this month, please refund one." })).JsonAsync();
        var stored = await (await _app.Client().GetAsync(new Uri($"/feedback/{created.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        foreach (var body in new[] { created, stored })
        {
            var topics = body.GetProperty("topics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            topics.Keys.ShouldBe(["bug", "feature_request", "billing", "performance", "ux", "general"]);
            topics.Values.Sum().ShouldBe(1.0, 1e-3);
            topics.MaxBy(p => p.Value).Key.ShouldBe(body.Str("topic"));
            body.Str("topic").ShouldBe("billing");
        }

        stored.GetProperty("topics").GetRawText().ShouldBe(created.GetProperty("topics").GetRawText());
    }

    [Fact]
    public async Task Scores_are_probabilities_and_the_confidence_label_matches_the_confidence()
    {
        var body = await (await _app.Client().PostFeedbackAsync(new { text = Praise })).JsonAsync();

        var scores = body.GetProperty("scores");
        var sum = scores.EnumerateObject().Sum(p => p.Value.GetDouble());
        sum.ShouldBe(1.0, 1e-6);
        var confidence = body.GetProperty("confidence").GetDouble();
        confidence.ShouldBe(scores.GetProperty(body.Str("sentiment")).GetDouble(), 1e-9);
        var expected = confidence > 0.80 ? "high" : confidence >= 0.50 ? "medium" : "low";
        body.Str("confidence_score").ShouldBe(expected);
    }

    [Fact]
    public async Task A_clear_complaint_raises_an_alert_and_stores_an_alert_row()
    {
        var body = await (await _app.Client().PostFeedbackAsync(new { text = Complaint })).JsonAsync();

        body.Str("sentiment").ShouldBeOneOf("negative", "mixed");
        body.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        var id = body.GetProperty("id").GetInt64();
        _app.Scalar($"SELECT COUNT(*) FROM alerts WHERE feedback_id = {id} AND state = 'open'").ShouldBe(1);
    }

    [Fact]
    public async Task Praise_raises_no_alert_and_no_alert_row()
    {
        var body = await (await _app.Client().PostFeedbackAsync(new { text = Praise })).JsonAsync();

        body.Str("sentiment").ShouldBe("positive");
        body.GetProperty("alert_triggered").GetBoolean().ShouldBeFalse();
        _app.Scalar("SELECT COUNT(*) FROM alerts").ShouldBe(0);
    }

    [Fact]
    public async Task The_alert_rule_is_configurable()
    {
        using var app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["ALERT_SENTIMENTS"] = "positive", ["ALERT_MIN_CONFIDENCE"] = "low" }, store: _store);

        var praise = await (await app.Client().PostFeedbackAsync(new { text = Praise })).JsonAsync();
        var complaint = await (await app.Client().PostFeedbackAsync(new { text = Complaint })).JsonAsync();

        praise.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        complaint.GetProperty("alert_triggered").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task The_stored_message_is_returned_with_its_text_source_customer_and_metadata()
    {
        var created = await (await _app.Client().PostFeedbackAsync(new
        {
            text = Complaint,
            source = "app_review",
            customer_id = "c-42",
            metadata = new { plan = "pro", seats = 12, tags = new[] { "ios" } },
        })).JsonAsync();

        var response = await _app.Client().GetAsync(new Uri($"/feedback/{created.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var stored = await response.JsonAsync();
        stored.Str("text").ShouldBe(Complaint);
        stored.Str("source").ShouldBe("app_review");
        stored.Str("customer_id").ShouldBe("c-42");
        stored.GetProperty("metadata").GetProperty("plan").GetString().ShouldBe("pro");
        stored.GetProperty("metadata").GetProperty("seats").GetInt32().ShouldBe(12);
        stored.Str("sentiment").ShouldBe(created.Str("sentiment"));
        stored.GetProperty("created_at").GetDateTime().ShouldBe(created.GetProperty("created_at").GetDateTime());
    }

    [Theory]
    [InlineData("""{"text": ""}""")]
    [InlineData("""{"text": "   \n\t  "}""")]
    [InlineData("""{"source": "email"}""")]
    [InlineData("""{"text": null}""")]
    public async Task Empty_or_missing_text_is_422_with_an_error_for_text(string body)
    {
        var response = await _app.Client().PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        problem.GetProperty("status").GetInt32().ShouldBe(422);
        problem.GetProperty("errors").TryGetProperty("text", out _).ShouldBeTrue();
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Theory]
    [InlineData("ok")]
    [InlineData("bad app")]
    [InlineData("   terrible    ")]
    [InlineData("123456789")]
    public async Task Text_of_one_to_nine_characters_is_stored_and_decided_by_validation(string text)
    {
        var response = await _app.Client().PostFeedbackAsync(new { text });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        body.Str("processing_method").ShouldBe("validation");
        body.Str("sentiment").ShouldBe("neutral");
        body.Str("topic").ShouldBe("general");
        body.Str("confidence_score").ShouldBe("low");
        body.GetProperty("alert_triggered").GetBoolean().ShouldBeFalse();
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(1);
    }

    [Fact]
    public async Task Ten_characters_are_enough_for_the_classifier()
    {
        var body = await (await _app.Client().PostFeedbackAsync(new { text = "  it broke!!  " })).JsonAsync();

        body.Str("processing_method").ShouldBe("ml_fallback");
    }

    [Fact]
    public async Task Text_over_5000_characters_is_stored_whole_analysed_on_5000_and_warned()
    {
        var text = string.Concat(Enumerable.Repeat("The export keeps failing with an error. ", 200));
        text.Length.ShouldBeGreaterThan(5000);

        var response = await _app.Client().PostFeedbackAsync(new { text });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        var warning = body.GetProperty("warnings").EnumerateArray().ShouldHaveSingleItem().GetString()!;
        warning.ShouldContain("5000");
        var stored = await (await _app.Client().GetAsync(new Uri($"/feedback/{body.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        stored.Str("text").ShouldBe(text);
        stored.GetProperty("warnings").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_413_and_nothing_is_stored()
    {
        var text = new string('a', 70 * 1024);

        var response = await _app.Client().PostFeedbackAsync(new { text });

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.JsonAsync()).GetProperty("status").GetInt32().ShouldBe(413);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_chunked_body_over_64_KiB_without_a_length_is_413()
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { text = new string('b', 80 * 1024) }));
        using var content = new StreamContent(new MemoryStream(payload));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/feedback") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await _app.Client().SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_body_just_under_64_KiB_is_accepted()
    {
        var text = new string('c', (64 * 1024) - 100);

        var response = await _app.Client().PostFeedbackAsync(new { text });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("""{"text": "unterminated""")]
    [InlineData("""not json at all""")]
    [InlineData("""{"text": "x",}""")]
    [InlineData("")]
    public async Task Malformed_json_is_400_problem_details(string body)
    {
        var response = await _app.Client().PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        problem.Str("type").ShouldNotBeNullOrEmpty();
        problem.Str("title").ShouldNotBeNullOrEmpty();
        problem.Str("detail").ShouldNotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("""{"text": "The first text, which a proxy would read.", "text": "The second text, which we would store."}""")]
    [InlineData("""{"text": "The app crashes when I upload a photo.", "metadata": {"plan": "pro", "plan": "free"}}""")]
    public async Task A_name_twice_in_one_object_is_400_and_nothing_is_stored(string body)
    {
        var response = await _app.Client().PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.JsonAsync();
        problem.Str("detail").ShouldContain("same property name twice");
        problem.GetRawText().ShouldNotContain("text, which");
        _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
    }

    [Theory]
    [InlineData(31, HttpStatusCode.Created)]
    [InlineData(32, HttpStatusCode.BadRequest)]
    [InlineData(500, HttpStatusCode.BadRequest)]
    public async Task Metadata_may_nest_32_levels_and_deeper_is_400_saying_so(int depth, HttpStatusCode expected)
    {
        // The body is depth 0 and metadata depth 1; each nested object below it is one level more.
        var nested = string.Concat(Enumerable.Repeat("""{"a": """, depth - 1)) + "{}" + new string('}', depth - 1);
        var response = await _app.Client().PostRawAsync($$"""{"text": "The export button does nothing on the reports page.", "metadata": {{nested}}}""");

        response.StatusCode.ShouldBe(expected);
        if (expected == HttpStatusCode.BadRequest)
        {
            (await response.JsonAsync()).Str("detail").ShouldContain("more than 32 levels deep");
            _app.Scalar("SELECT count(*) FROM feedback").ShouldBe(0);
        }
    }

    [Fact]
    public async Task A_body_too_deep_and_also_broken_is_reported_as_not_json()
    {
        var response = await _app.Client().PostRawAsync(new string('[', 40) + "1,]");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).Str("detail").ShouldContain("could not be parsed as JSON");
    }

    [Theory]
    [InlineData("""{"text": 42}""", "text")]
    [InlineData("""{"text": ["a", "b"]}""", "text")]
    [InlineData("""{"text": "The app is fine overall", "source": 7}""", "source")]
    [InlineData("""{"text": "The app is fine overall", "customer_id": {"id": 1}}""", "customer_id")]
    [InlineData("""{"text": "The app is fine overall", "metadata": "plan=pro"}""", "metadata")]
    public async Task A_field_of_the_wrong_type_is_400_naming_the_field(string body, string field)
    {
        var response = await _app.Client().PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Theory]
    [InlineData("""["The app crashes all the time"]""")]
    [InlineData("\"The app crashes all the time\"")]
    public async Task A_body_that_is_not_an_object_is_400(string body)
    {
        var response = await _app.Client().PostRawAsync(body);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    [InlineData("application/json; charset=latin1")]
    [InlineData(null)]
    public async Task A_body_that_is_not_declared_json_is_415(string? contentType)
    {
        var response = await _app.Client().PostRawAsync("""{"text": "The app crashes all the time"}""", contentType);

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/merge-patch+json")]
    [InlineData("Application/JSON")]
    public async Task Json_content_types_with_parameters_or_suffixes_are_accepted(string contentType)
    {
        var response = await _app.Client().PostRawAsync("""{"text": "The app crashes all the time"}""", contentType);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_overlong_source_or_customer_id_is_422()
    {
        var response = await _app.Client().PostFeedbackAsync(new { text = Complaint, source = new string('s', 101), customer_id = new string('c', 201) });

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        errors.TryGetProperty("source", out _).ShouldBeTrue();
        errors.TryGetProperty("customer_id", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task Errors_never_echo_the_submitted_text()
    {
        const string secret = "my-card-4111111111111111-and-password-hunter2";

        var responses = new[]
        {
            await _app.Client().PostRawAsync($$"""{"text": "{{secret}}", "source": 5}"""),
            await _app.Client().PostRawAsync($$"""{"text": "{{secret}}" """),
            await _app.Client().PostRawAsync($$"""{"text": "{{secret}}"}""", "text/plain"),
        };

        foreach (var response in responses)
        {
            ((int)response.StatusCode).ShouldBeInRange(400, 499);
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).ShouldNotContain("hunter2");
        }
    }
}

public sealed class SubmissionOnSqliteTests() : SubmissionTests(StoreKind.Sqlite);

public sealed class SubmissionOnPostgresTests() : SubmissionTests(StoreKind.Postgres);
