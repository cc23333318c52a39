using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>POST /feedback's 201 answer as a client reads it.</summary>
public sealed class CreatedFeedbackTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_created_answer_is_json_with_its_length_and_location()
    {
        var response = await _app.Client().PostFeedbackAsync(new { text = "Die App stürzt bei jedem Start ab, bitte beheben. 😀" });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        response.Content.Headers.ContentType!.ToString().ShouldBe("application/json; charset=utf-8");
        var bytes = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        response.Content.Headers.ContentLength.ShouldBe(bytes.Length);
        var body = JsonDocument.Parse(bytes).RootElement;
        response.Headers.Location!.ToString().ShouldBe($"/feedback/{body.GetProperty("id").GetInt64()}");
        body.Str("language").ShouldNotBeNullOrEmpty();
    }
}
