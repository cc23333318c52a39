using System.Text.Json;
using Feedback.Api.Queries;

namespace Feedback.Api.Submissions;

/// <summary>
/// POST /feedback's 201 answer, written field by field with a <see cref="Utf8JsonWriter"/> straight into the response
/// pipe. The serializer cannot take its generated fast path with the API's JSON options (their encoder rules it out),
/// so it walked <see cref="FeedbackResult"/>'s metadata and copied through a stream adapter on every request.
/// The bytes are the serializer's: the same names, order, number and date formats, and the options' encoder for
/// escaping (a test compares the two).
/// </summary>
internal static class CreatedFeedback
{
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText Sentiment = JsonEncodedText.Encode("sentiment");
    private static readonly JsonEncodedText Topic = JsonEncodedText.Encode("topic");
    private static readonly JsonEncodedText ConfidenceScore = JsonEncodedText.Encode("confidence_score");
    private static readonly JsonEncodedText AlertTriggered = JsonEncodedText.Encode("alert_triggered");
    private static readonly JsonEncodedText ProcessingMethod = JsonEncodedText.Encode("processing_method");
    private static readonly JsonEncodedText CreatedAt = JsonEncodedText.Encode("created_at");
    private static readonly JsonEncodedText Confidence = JsonEncodedText.Encode("confidence");
    private static readonly JsonEncodedText Scores = JsonEncodedText.Encode("scores");
    private static readonly JsonEncodedText Positive = JsonEncodedText.Encode("positive");
    private static readonly JsonEncodedText Negative = JsonEncodedText.Encode("negative");
    private static readonly JsonEncodedText Neutral = JsonEncodedText.Encode("neutral");
    private static readonly JsonEncodedText Mixed = JsonEncodedText.Encode("mixed");
    private static readonly JsonEncodedText Topics = JsonEncodedText.Encode("topics");
    private static readonly JsonEncodedText Language = JsonEncodedText.Encode("language");
    private static readonly JsonEncodedText PromptVersion = JsonEncodedText.Encode("prompt_version");
    private static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText Status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText Warnings = JsonEncodedText.Encode("warnings");

    /// <summary>
    /// 201 with Location and the body. The body is left in the response pipe unflushed, so Kestrel sends it with a
    /// Content-Length when the request ends instead of as a chunked stream.
    /// </summary>
    public static void Write(HttpResponse response, FeedbackResult result, JsonSerializerOptions options)
    {
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/feedback/{result.Id}";
        response.ContentType = "application/json; charset=utf-8";
        using var writer = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true });
        Write(writer, result);
    }

    internal static void Write(Utf8JsonWriter writer, FeedbackResult result)
    {
        writer.WriteStartObject();
        writer.WriteNumber(Id, result.Id);
        writer.WriteString(Sentiment, result.Sentiment);
        writer.WriteString(Topic, result.Topic);
        writer.WriteString(ConfidenceScore, result.ConfidenceScore);
        writer.WriteBoolean(AlertTriggered, result.AlertTriggered);
        writer.WriteString(ProcessingMethod, result.ProcessingMethod);
        writer.WriteString(CreatedAt, result.CreatedAt);
        writer.WriteNumber(Confidence, result.Confidence);
        writer.WriteStartObject(Scores);
        writer.WriteNumber(Positive, result.Scores.Positive);
        writer.WriteNumber(Negative, result.Scores.Negative);
        writer.WriteNumber(Neutral, result.Scores.Neutral);
        writer.WriteNumber(Mixed, result.Scores.Mixed);
        writer.WriteEndObject();
        writer.WriteStartObject(Topics);
        foreach (var (topic, score) in result.Topics)
        {
            writer.WriteNumber(topic, score);
        }

        writer.WriteEndObject();
        writer.WriteString(Language, result.Language);
        writer.WriteString(PromptVersion, result.PromptVersion);
        writer.WriteString(Model, result.Model);
        writer.WriteString(Status, result.Status);
        writer.WriteStartArray(Warnings);
        foreach (var warning in result.Warnings)
        {
            writer.WriteStringValue(warning);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }
}
