using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

public sealed class AuthenticationTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_request_without_a_key_is_401_problem_details_and_stores_nothing()
    {
        var response = await _app.Client(key: null).PostFeedbackAsync(new { text = "The app crashes every time." });

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.JsonAsync()).GetProperty("status").GetInt32().ShouldBe(401);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(0);
    }

    [Fact]
    public async Task A_wrong_key_gets_the_same_answer_as_a_missing_key()
    {
        var missing = await _app.Client(key: null).PostFeedbackAsync(new { text = "The app crashes every time." });
        var wrong = await _app.Client("test-key-aaaaaaaaaaaaaaaX").PostFeedbackAsync(new { text = "The app crashes every time." });

        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var a = await missing.JsonAsync();
        var b = await wrong.JsonAsync();
        foreach (var field in new[] { "type", "title", "detail" })
        {
            b.Str(field).ShouldBe(a.Str(field));
        }
    }

    [Fact]
    public async Task Every_configured_key_is_accepted()
    {
        var first = await _app.Client(FeedbackApp.Key).PostFeedbackAsync(new { text = "The app crashes every time." });
        var second = await _app.Client(FeedbackApp.SecondKey).PostFeedbackAsync(new { text = "The app crashes every time." });

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        second.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Reads_need_a_key_too()
    {
        var list = await _app.Client(key: null).GetAsync(new Uri("/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        var one = await _app.Client(key: null).GetAsync(new Uri("/feedback/1", UriKind.Relative), TestContext.Current.CancellationToken);

        list.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        one.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        var response = await _app.Client(key: null).GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var health = await response.JsonAsync();
        health.Str("status").ShouldBe("ok");
        health.Str("ai_provider").ShouldBe("disabled");
        health.Str("ml_fallback").ShouldBe("available");
        health.Str("database").ShouldBe("ok");
    }

    [Fact]
    public async Task An_unknown_route_is_a_404_problem()
    {
        var response = await _app.Client().GetAsync(new Uri("/nothing-here", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }
}
