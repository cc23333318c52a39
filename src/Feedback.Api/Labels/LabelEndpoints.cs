using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Storage;
using Feedback.Api.Submissions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Feedback.Api.Labels;

/// <summary>
/// PUT /feedback/{id}/label: a person's sentiment and topic for a message, stored beside the model's answer (which stays
/// as it was) so that <c>eval --corrections</c> can score the model against them and <c>train --with-corrections</c>
/// can learn from them. Each PUT adds a label; the latest is the message's label.
/// </summary>
internal static partial class LabelEndpoints
{
    /// <summary>Two short names: anything longer is not a label.</summary>
    private const int MaxBodyBytes = 4 * 1024;

    private static readonly string SentimentRule = $"Must be one of {string.Join(", ", Enum.GetValues<Sentiment>().Select(WireNames.Of))}.";

    public static RouteGroupBuilder MapLabels(this RouteGroupBuilder group)
    {
        group.MapPut("/{id:long}/label", PutAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("LabelFeedback")
            .WithTags("Labels")
            .WithSummary("Set a person's sentiment and topic for a message. The model's answer is kept; earlier labels stay as history.")
            .Accepts<LabelRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return group;
    }

    private static async Task<Results<Ok<FeedbackDetails>, ProblemHttpResult>> PutAsync(
        long id, HttpContext context, IFeedbackStore store, FeedbackDb db, Taxonomy taxonomy, TimeProvider time, FeedbackMetrics metrics,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (request, problem) = await ReadAsync(context.Request, taxonomy, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        context.Items[RequestLogging.FeedbackIdItem] = id;
        var by = context.User.KeyId();
        var label = new NewLabel(id, request!.Sentiment, request.Topic, time.GetUtcNow().UtcDateTime, by);
        if (!await store.LabelAsync(label, cancellationToken))
        {
            return QueryEndpoints.NotFound(id);
        }

        var details = await QueryEndpoints.DetailsAsync(db, id, cancellationToken);
        if (details is null)
        {
            return QueryEndpoints.NotFound(id);
        }

        metrics.Labelled(details.Sentiment == label.Sentiment, details.Topic == label.Topic);
        var logger = loggers.CreateLogger(typeof(LabelEndpoints));
        LogLabelled(logger, id, label.Sentiment, label.Topic, details.Sentiment, details.Topic, by);
        return TypedResults.Ok(details);
    }

    /// <summary>The body, or the problem naming what is wrong with it: 415, 413, 400 (not JSON, a field missing, of the wrong type or unknown).</summary>
    private static async Task<(LabelRequest? Request, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, Taxonomy taxonomy, CancellationToken cancellationToken)
    {
        if (!SubmissionReader.IsJson(request.ContentType))
        {
            return (null, Problems.UnsupportedMediaType());
        }

        if (request.ContentLength > MaxBodyBytes || await SubmissionReader.ReadBodyAsync(request.BodyReader, MaxBodyBytes, cancellationToken) is not { } body)
        {
            return (null, Problems.TooLarge(MaxBodyBytes));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            return (null, Problems.InvalidJson($"The body could not be parsed as JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})."));
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.WrongTypes(new Dictionary<string, string[]>(StringComparer.Ordinal) { ["$"] = ["The body must be a JSON object."] }));
            }

            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var topicRule = $"Must be one of {string.Join(", ", taxonomy.Topics)}.";
            var sentimentText = Field(document.RootElement, "sentiment", SentimentRule, errors);
            var topicText = Field(document.RootElement, "topic", topicRule, errors);
            var sentiment = "";
            if (sentimentText is not null && !TryParseSentiment(sentimentText, out sentiment))
            {
                errors["sentiment"] = [SentimentRule];
            }

            var topic = "";
            if (topicText is not null && taxonomy.TryParse(topicText, out var parsed))
            {
                topic = parsed.Name;
            }
            else if (topicText is not null)
            {
                errors["topic"] = [topicRule];
            }

            return errors.Count > 0
                ? (null, Problems.BadRequest("The label is not valid; see errors.", errors))
                : (new LabelRequest(sentiment, topic), null);
        }
    }

    /// <summary>A required string field; null (with its error recorded) when it is missing or not a string.</summary>
    private static string? Field(JsonElement body, string name, string rule, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors[name] = [$"Required. {rule}"];
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[name] = [$"Must be a string. {rule}"];
            return null;
        }

        return value.GetString();
    }

    private static bool TryParseSentiment(string text, out string sentiment)
    {
        var known = WireNames.TryParseSentiment(text, out var parsed);
        sentiment = known ? WireNames.Of(parsed) : "";
        return known;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feedback {FeedbackId} labelled {Sentiment}/{Topic} (the model said {ModelSentiment}/{ModelTopic}) by key {KeyName}")]
    private static partial void LogLabelled(ILogger logger, long feedbackId, string sentiment, string topic, string modelSentiment, string modelTopic, string keyName);
}

/// <summary>The body of PUT /feedback/{id}/label (read by hand, for the errors; declared for the OpenAPI document).</summary>
internal sealed record LabelRequest(
    [property: JsonPropertyName("sentiment")] string Sentiment,
    [property: JsonPropertyName("topic")] string Topic);
