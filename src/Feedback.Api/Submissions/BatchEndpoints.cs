using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Api.Alerts;
using Feedback.Api.Queries;
using Feedback.Api.Revisions;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Feedback.Api.Security;

namespace Feedback.Api.Submissions;

/// <summary>
/// POST /feedback/batch: up to <see cref="MaxItems"/> messages in one request. Each item is checked exactly as
/// POST /feedback checks a body (by <see cref="SubmissionReader"/>); an item that fails gets its own error and
/// the others are still stored, all in one transaction.
/// </summary>
internal static class BatchEndpoints
{
    public const int MaxItems = 100;
    public const int MaxBodyBytes = 1024 * 1024;

    public static RouteGroupBuilder MapBatch(this RouteGroupBuilder group)
    {
        group.MapPost("/batch", SubmitAsync)
            .RequireAuthorization(Scopes.Ingest)
            .WithName("SubmitFeedbackBatch")
            .WithSummary($"Classify and store up to {MaxItems} messages in one transaction, with a result or an error per item.")
            .Accepts<BatchRequest>("application/json")
            .Produces<BatchResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> SubmitAsync(
        HttpContext context,
        Analyzer analyzer,
        AlertRule alertRule,
        SharedAlertGroups alertGroups,
        IFeedbackStore writer,
        ProvisionalUpgrades upgrades,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!SubmissionReader.IsJson(request.ContentType))
        {
            return Problems.UnsupportedMediaType();
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return Problems.TooLarge(MaxBodyBytes);
        }

        var body = await SubmissionReader.ReadBodyAsync(request.BodyReader, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return Problems.TooLarge(MaxBodyBytes);
        }

        var (items, problem) = SplitItems(body);
        if (problem is not null)
        {
            return problem;
        }

        // Each item is parsed as if it were a POST /feedback body of its own.
        var parsed = items!.ConvertAll(SubmissionReader.Parse);
        var analyses = await Task.WhenAll(parsed.Select(async p =>
            p.Submission is null ? null : await analyzer.AnalyzeAsync(p.Submission.Text, cancellationToken)));

        var now = time.GetUtcNow().UtcDateTime;
        var toWrite = new List<NewFeedback>();
        for (var i = 0; i < parsed.Count; i++)
        {
            if (parsed[i].Submission is { } submission && analyses[i] is { } analysis)
            {
                var alert = alertRule.Triggers(analysis.Result);
                var record = SubmissionRecords.ToRecord(submission, analysis.Result, alert, now, idempotencyKey: null, analyzer.Taxonomy);
                var group = alert ? await alertGroups.JoinAsync(record.Topic, record.Text, now) : null;
                toWrite.Add(new NewFeedback(record, alert, group, Followed: analysis.Upgrade is not null));
            }
        }

        // The rows are written whatever happens to the request from here on: no cancellation token.
        var written = toWrite.Count == 0 ? [] : await writer.WriteBatchAsync(toWrite, CancellationToken.None);

        var results = new List<BatchItemResult>(parsed.Count);
        var next = 0;
        for (var i = 0; i < parsed.Count; i++)
        {
            if (parsed[i].Problem is { } itemProblem)
            {
                results.Add(new BatchItemResult(i, itemProblem.StatusCode, null, itemProblem.ProblemDetails));
                continue;
            }

            var record = written[next++].Record;
            if (analyses[i]!.Upgrade is { } upgrade)
            {
                upgrades.Follow(record.Id, upgrade);
            }

            results.Add(new BatchItemResult(i, StatusCodes.Status201Created, new FeedbackResult(record), null));
        }

        return TypedResults.Ok(new BatchResponse(written.Count, parsed.Count - written.Count, results));
    }

    /// <summary>The raw JSON of each item, or a problem with the body as a whole.</summary>
    internal static (List<byte[]>? Items, ProblemHttpResult? Problem) SplitItems(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException exception)
        {
            return (null, Problems.InvalidJson($"The body could not be parsed as JSON (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})."));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                return (null, Problems.WrongTypes(Error("items", "The body must be an object with an items array.")));
            }

            var count = items.GetArrayLength();
            if (count is 0 or > MaxItems)
            {
                return (null, Problems.Validation(Error("items", $"Must hold 1 to {MaxItems} items (got {count}).")));
            }

            return ([.. items.EnumerateArray().Select(item => Encoding.UTF8.GetBytes(item.GetRawText()))], null);
        }
    }

    private static Dictionary<string, string[]> Error(string field, string message) =>
        new(StringComparer.Ordinal) { [field] = [message] };
}

/// <summary>The body of POST /feedback/batch (documentation only: the body is read by hand).</summary>
internal sealed record BatchRequest([property: JsonPropertyName("items")] IReadOnlyList<BatchRequestItem> Items);

internal sealed record BatchRequestItem(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("customer_id")] string? CustomerId,
    [property: JsonPropertyName("metadata")] JsonElement? Metadata);

internal sealed record BatchResponse(
    [property: JsonPropertyName("created")] int Created,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("items")] IReadOnlyList<BatchItemResult> Items);

/// <summary>One item's outcome, in input order: a result (status 201) or a problem (status 400 or 422).</summary>
internal sealed record BatchItemResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("result"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FeedbackResult? Result,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ProblemDetails? Error);
