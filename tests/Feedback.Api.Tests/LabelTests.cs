using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>PUT /feedback/{id}/label: a person's label beside the model's answer, with its history, on either store.</summary>
public abstract class LabelTests : IDisposable
{
    private const string Reviewer = "reviewer-key-0123456789abcdef";
    private const string Viewer = "viewer-key-0123456789abcdef00";
    private const string Charged = "I was charged twice for my subscription this month, please refund me now. Unacceptable!";

    private readonly string _keysFile = Path.Combine(Directory.CreateTempSubdirectory("feedback-label-keys-").FullName, "keys.txt");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly FeedbackApp _app;

    protected LabelTests(StoreKind kind)
    {
        File.WriteAllLines(_keysFile, [Line("reviewer", "admin", Reviewer), Line("viewer", "read", Viewer)]);
        _app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["API_KEYS_FILE"] = _keysFile }, _time, store: kind);
    }

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(Path.GetDirectoryName(_keysFile)!, recursive: true);
    }

    [Fact]
    public async Task A_persons_label_shows_on_the_message_beside_the_models_answer_which_stays_unchanged()
    {
        var id = await PostAsync(Charged);
        var before = await GetAsync(id);
        before.GetProperty("label").ValueKind.ShouldBe(JsonValueKind.Null);

        var put = await PutLabelAsync(Reviewer, id, new { sentiment = "mixed", topic = "ux" });

        put.StatusCode.ShouldBe(HttpStatusCode.OK);
        var answered = await put.JsonAsync();
        var after = await GetAsync(id);
        foreach (var view in new[] { answered, after })
        {
            var label = view.GetProperty("label");
            label.Str("sentiment").ShouldBe("mixed");
            label.Str("topic").ShouldBe("ux");
            label.GetProperty("labelled_at").GetDateTime().ShouldBe(_time.GetUtcNow().UtcDateTime);
            label.Str("labelled_by").ShouldBe("reviewer");
            view.Str("text").ShouldBe(Charged);
        }

        // The model's answer is what it was: the label sits beside it.
        foreach (var field in new[] { "sentiment", "topic", "confidence_score", "processing_method", "model", "status" })
        {
            after.Str(field).ShouldBe(before.Str(field));
        }

        after.GetProperty("alert_triggered").GetBoolean().ShouldBe(before.GetProperty("alert_triggered").GetBoolean());
        after.GetProperty("confidence").GetDouble().ShouldBe(before.GetProperty("confidence").GetDouble());
        var listed = (await (await _app.Client().GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync())
            .GetProperty("items")[0];
        listed.GetProperty("label").Str("topic").ShouldBe("ux");
    }

    [Fact]
    public async Task Relabelling_keeps_the_earlier_label_as_history_and_shows_the_latest()
    {
        var id = await PostAsync(Charged);
        var other = await PostAsync("I love the new reports page, it is wonderful and so easy to use. Thank you!");
        (await PutLabelAsync(Reviewer, id, new { sentiment = "neutral", topic = "general" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        _time.Advance(TimeSpan.FromMinutes(5));

        (await PutLabelAsync(Reviewer, id, new { sentiment = "negative", topic = "billing" })).StatusCode.ShouldBe(HttpStatusCode.OK);

        var label = (await GetAsync(id)).GetProperty("label");
        label.Str("sentiment").ShouldBe("negative");
        label.Str("topic").ShouldBe("billing");
        label.GetProperty("labelled_at").GetDateTime().ShouldBe(_time.GetUtcNow().UtcDateTime);
        _app.Scalar($"SELECT count(*) FROM labels WHERE feedback_id = {id} AND sentiment = 'neutral' AND topic = 'general'").ShouldBe(1);
        _app.Scalar($"SELECT count(*) FROM labels WHERE feedback_id = {id}").ShouldBe(2);
        (await GetAsync(other)).GetProperty("label").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task A_key_without_the_admin_scope_may_read_but_not_label_a_message()
    {
        var id = await PostAsync(Charged);

        var refused = await PutLabelAsync(Viewer, id, new { sentiment = "negative", topic = "billing" });
        var anonymous = await PutLabelAsync(null, id, new { sentiment = "negative", topic = "billing" });

        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await refused.JsonAsync()).Str("type").ShouldBe("/problems/forbidden");
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await _app.Client(Viewer).GetAsync(new Uri($"/feedback/{id}", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        _app.Scalar("SELECT count(*) FROM labels").ShouldBe(0);
    }

    [Fact]
    public async Task An_unknown_topic_or_a_missing_sentiment_is_a_400_that_names_the_field()
    {
        var id = await PostAsync(Charged);

        var badTopic = await PutLabelAsync(Reviewer, id, new { sentiment = "negative", topic = "shipping" });
        var missing = await PutLabelAsync(Reviewer, id, new { topic = "billing" });
        var wrongType = await PutLabelAsync(Reviewer, id, new { sentiment = 3, topic = "billing" });

        badTopic.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await badTopic.JsonAsync();
        problem.Str("type").ShouldBe("/problems/bad-request");
        problem.GetProperty("errors").GetProperty("topic")[0].GetString()!.ShouldContain("feature_request");
        problem.GetProperty("errors").TryGetProperty("sentiment", out _).ShouldBeFalse();
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.JsonAsync()).GetProperty("errors").GetProperty("sentiment")[0].GetString()!.ShouldStartWith("Required.");
        wrongType.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await wrongType.JsonAsync()).GetProperty("errors").TryGetProperty("sentiment", out _).ShouldBeTrue();
        _app.Scalar("SELECT count(*) FROM labels").ShouldBe(0);
    }

    [Fact]
    public async Task Labelling_a_message_that_does_not_exist_is_a_404_and_stores_nothing()
    {
        var response = await PutLabelAsync(Reviewer, 4242, new { sentiment = "negative", topic = "bug" });

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/not-found");
        _app.Scalar("SELECT count(*) FROM labels").ShouldBe(0);
    }

    private static string Line(string name, string scopes, string key) =>
        $"{name} {scopes} sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";

    private async Task<long> PostAsync(string text)
    {
        var response = await _app.Client(Reviewer).PostFeedbackAsync(new { text });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private async Task<JsonElement> GetAsync(long id) =>
        await (await _app.Client(Reviewer).GetAsync(new Uri($"/feedback/{id}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

    private Task<HttpResponseMessage> PutLabelAsync(string? key, long id, object body) =>
        _app.Client(key).PutAsJsonAsync(new Uri($"/feedback/{id}/label", UriKind.Relative), body, TestContext.Current.CancellationToken);
}

public sealed class LabelsOnSqliteTests() : LabelTests(StoreKind.Sqlite);

public sealed class LabelsOnPostgresTests() : LabelTests(StoreKind.Postgres);
