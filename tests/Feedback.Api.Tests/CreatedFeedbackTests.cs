using System.Net;
using System.Text;
using System.Text.Json;
using Feedback.Api.Queries;
using Feedback.Storage;
using Feedback.Api.Submissions;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>POST /feedback's answer is written by hand; these hold it to what the API's JSON serializer writes.</summary>
public sealed class CreatedFeedbackTests : IDisposable
{
    private readonly FeedbackApp _app = new();

    public void Dispose() => _app.Dispose();

    public static TheoryData<string, string?, string, double> Answers => new()
    {
        // Model names come from OPENAI_MODEL and warnings from the rules: characters the encoder may escape included.
        { "local-5", null, "[]", 0.93 },
        { "qwen/Qwen2.5+7B <instruct> & 'ü' \"quoted\"", "v2", """["text is longer than 5000 characters","Grüße <b>&</b> \u2028 😀"]""", 0.1 + 0.2 },
        { "gpt-4o-mini", "v1", """["\\ back\\slash and \t tab"]""", 1e-7 },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void The_written_answer_is_byte_for_byte_what_the_serializer_writes(string model, string? prompt, string warnings, double confidence)
    {
        var record = new FeedbackRecord
        {
            Id = 9_007_199_254_740_993,
            Text = "not part of the answer",
            Sentiment = "mixed",
            Topic = "feature_request",
            Confidence = confidence,
            ConfidenceScore = "low",
            ScorePositive = 1 - confidence,
            ScoreNegative = confidence / 3,
            ScoreNeutral = 0.000123456789,
            ScoreMixed = 0.25,
            AlertTriggered = true,
            ProcessingMethod = "ai",
            Language = "de",
            PromptVersion = prompt,
            Model = model,
            Status = "provisional",
            Warnings = warnings,
            CreatedAt = new DateTime(2026, 11, 26, 4, 30, 12, DateTimeKind.Unspecified).AddTicks(1234567),
        };
        var options = _app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var result = new FeedbackResult(record);

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder }))
        {
            CreatedFeedback.Write(writer, result);
        }

        Encoding.UTF8.GetString(buffer.ToArray()).ShouldBe(JsonSerializer.Serialize(result, options));
    }

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
