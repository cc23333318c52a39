using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Storage;

namespace Feedback.Api.Queries;

/// <summary>The result of one message on the wire. The first seven fields are the original contract.</summary>
internal class FeedbackResult(FeedbackRecord record)
{
    [JsonPropertyName("id")]
    public long Id { get; } = record.Id;

    [JsonPropertyName("sentiment")]
    public string Sentiment { get; } = record.Sentiment;

    [JsonPropertyName("topic")]
    public string Topic { get; } = record.Topic;

    [JsonPropertyName("confidence_score")]
    public string ConfidenceScore { get; } = record.ConfidenceScore;

    [JsonPropertyName("alert_triggered")]
    public bool AlertTriggered { get; } = record.AlertTriggered;

    [JsonPropertyName("processing_method")]
    public string ProcessingMethod { get; } = record.ProcessingMethod;

    [JsonPropertyName("created_at")]
    public DateTime CreatedAt { get; } = DateTime.SpecifyKind(record.CreatedAt, DateTimeKind.Utc);

    [JsonPropertyName("confidence")]
    public double Confidence { get; } = record.Confidence;

    [JsonPropertyName("scores")]
    public ScoresView Scores { get; } = new(record.ScorePositive, record.ScoreNegative, record.ScoreNeutral, record.ScoreMixed);

    /// <summary>A score for each configured topic, summing to 1; <see cref="Topic"/> is the highest.</summary>
    [JsonPropertyName("topics")]
    public IReadOnlyDictionary<string, double> Topics { get; } = StoredTopicScores.Read(record.TopicScores, record.Topic);

    [JsonPropertyName("language")]
    public string Language { get; } = record.Language;

    [JsonPropertyName("prompt_version")]
    public string? PromptVersion { get; } = record.PromptVersion;

    [JsonPropertyName("model")]
    public string Model { get; } = record.Model;

    [JsonPropertyName("status")]
    public string Status { get; } = record.Status;

    [JsonPropertyName("warnings")]
    public IReadOnlyList<string> Warnings { get; } =
        record.Warnings is "[]" or "" ? [] : JsonSerializer.Deserialize<string[]>(record.Warnings) ?? [];
}

/// <summary>A stored message with its result and the label a person gave it (null when none did), as GET returns it.</summary>
internal sealed class FeedbackDetails(FeedbackRecord record, FeedbackLabel? label) : FeedbackResult(record)
{
    [JsonPropertyName("text")]
    [JsonPropertyOrder(1)]
    public string Text { get; } = record.Text;

    [JsonPropertyName("source")]
    [JsonPropertyOrder(1)]
    public string? Source { get; } = record.Source;

    [JsonPropertyName("customer_id")]
    [JsonPropertyOrder(1)]
    public string? CustomerId { get; } = record.CustomerId;

    /// <summary>The metadata object exactly as the client sent it.</summary>
    [JsonPropertyName("metadata")]
    [JsonPropertyOrder(1)]
    [JsonConverter(typeof(RawJsonConverter))]
    public string? Metadata { get; } = record.Metadata;

    [JsonPropertyName("label")]
    [JsonPropertyOrder(2)]
    public LabelView? Label { get; } = label is null ? null : new LabelView(label);
}

/// <summary>A message's current label (its latest), beside the model's answer.</summary>
internal sealed class LabelView(FeedbackLabel label)
{
    [JsonPropertyName("sentiment")]
    public string Sentiment { get; } = label.Sentiment;

    [JsonPropertyName("topic")]
    public string Topic { get; } = label.Topic;

    [JsonPropertyName("labelled_at")]
    public DateTime LabelledAt { get; } = DateTime.SpecifyKind(label.LabelledAt, DateTimeKind.Utc);

    /// <summary>The name of the API key that set it, so a reviewer can see whose call it was.</summary>
    [JsonPropertyName("labelled_by")]
    public string LabelledBy { get; } = label.LabelledBy;
}

internal sealed record ScoresView(
    [property: JsonPropertyName("positive")] double Positive,
    [property: JsonPropertyName("negative")] double Negative,
    [property: JsonPropertyName("neutral")] double Neutral,
    [property: JsonPropertyName("mixed")] double Mixed);

/// <summary>Writes a stored JSON text as JSON, not as a string.</summary>
internal sealed class RawJsonConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(value, skipInputValidation: true);
        }
    }
}
