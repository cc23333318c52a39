using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Feedback.Api.Submissions;

/// <summary>
/// POST /feedback/batch: up to <see cref="MaxItems"/> messages in one request. Each item is checked exactly as
/// POST /feedback checks a body (by <see cref="SubmissionReader"/>, within the same 64 KiB), costs one rate-limit token,
/// and may carry its own idempotency key; an item that fails gets its own error and the others are still stored, all
/// in one transaction.
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
            .WithTags("Feedback")
            .WithSummary($"Classify and store up to {MaxItems} messages in one transaction, with a result or an error per item.")
            .Accepts<BatchRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> SubmitAsync(
        HttpRequest request,
        ClaimsPrincipal user,
        KeyBuckets buckets,
        SubmitHandler handler,
        CancellationToken cancellationToken)
    {
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

        // The rate-limiting middleware took this request's token; every further item takes one more, so a batch of a
        // hundred costs what a hundred single POSTs cost. Refused, nothing is stored.
        if (buckets.Enabled && items!.Count > 1)
        {
            using var lease = await buckets.For(user.KeyId()).AcquireAsync(items.Count - 1, cancellationToken);
            if (!lease.IsAcquired)
            {
                return RateLimits.Rejected(request.HttpContext, lease, buckets.PerMinute);
            }
        }

        var checkedItems = items!.ConvertAll(item => Check(item, user));
        var submitted = await handler.SubmitManyAsync([.. checkedItems.Where(c => c.Submission is not null).Select(c => c.Submission!)], cancellationToken);

        var results = new List<BatchItemResult>(checkedItems.Count);
        var next = 0;
        for (var i = 0; i < checkedItems.Count; i++)
        {
            results.Add(checkedItems[i].Problem is { } itemProblem
                ? Failed(i, itemProblem)
                : Answered(i, submitted[next++].Written));
        }

        return TypedResults.Ok(new BatchResponse(results.Count(r => r.Result is not null), results.Count(r => r.Error is not null), results));
    }

    /// <summary>One item checked as a POST /feedback body would be, then its own idempotency key.</summary>
    private static (KeyedSubmission? Submission, ProblemHttpResult? Problem) Check(BatchItem item, ClaimsPrincipal user)
    {
        if (item.Json.Length > SubmissionReader.MaxBodyBytes)
        {
            return (null, Problems.TooLarge(SubmissionReader.MaxBodyBytes));
        }

        var (submission, problem) = SubmissionReader.Parse(item.Json);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (item.KeyProblem is not null)
        {
            return (null, Problems.BadRequest(
                $"{IdempotencyKeys.BatchField} must be a string of {IdempotencyKeys.Rule}.",
                new Dictionary<string, string[]>(StringComparer.Ordinal) { [IdempotencyKeys.BatchField] = [item.KeyProblem] }));
        }

        return (new KeyedSubmission(submission!, item.Key is null ? null : IdempotencyKeys.Stored(user.KeyId(), item.Key)), null);
    }

    private static BatchItemResult Answered(int index, WriteResult written) => written.Outcome switch
    {
        WriteOutcome.KeyReused => Failed(index, Problems.IdempotencyKeyReused()),
        _ => new BatchItemResult(index, StatusCodes.Status201Created, new FeedbackResult(written.Record), null, Replayed: written.Outcome == WriteOutcome.Replayed ? true : null),
    };

    private static BatchItemResult Failed(int index, ProblemHttpResult problem) =>
        new(index, problem.StatusCode, null, problem.ProblemDetails);

    /// <summary>The raw JSON of each item and its idempotency key, or a problem with the body as a whole.</summary>
    internal static (List<BatchItem>? Items, ProblemHttpResult? Problem) SplitItems(byte[] body)
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

            return ([.. items.EnumerateArray().Select(ReadItem)], null);
        }
    }

    private static BatchItem ReadItem(JsonElement item)
    {
        var json = Encoding.UTF8.GetBytes(item.GetRawText());
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty(IdempotencyKeys.BatchField, out var key) || key.ValueKind == JsonValueKind.Null)
        {
            return new BatchItem(json, null, null);
        }

        if (key.ValueKind != JsonValueKind.String)
        {
            return new BatchItem(json, null, $"Must be a string, not {key.ValueKind.ToString().ToLowerInvariant()}.");
        }

        var value = TryGetString(key);
        return IdempotencyKeys.IsUsable(value) ? new BatchItem(json, value, null) : new BatchItem(json, null, "Not a valid key.");
    }

    /// <summary>Null for an escaped unpaired surrogate, which is not text (<see cref="SubmissionReader"/> refuses that item anyway).</summary>
    private static string? TryGetString(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static Dictionary<string, string[]> Error(string field, string message) =>
        new(StringComparer.Ordinal) { [field] = [message] };
}

/// <summary>One item of a batch: its raw JSON, and its idempotency key or why that key cannot be used.</summary>
internal sealed record BatchItem(byte[] Json, string? Key, string? KeyProblem);

/// <summary>The body of POST /feedback/batch (documentation only: the body is read by hand).</summary>
internal sealed record BatchRequest([property: JsonPropertyName("items")] IReadOnlyList<BatchRequestItem> Items);

internal sealed record BatchRequestItem(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("source")] string? Source = null,
    [property: JsonPropertyName("customer_id")] string? CustomerId = null,
    [property: JsonPropertyName("metadata")] JsonElement? Metadata = null,
    [property: JsonPropertyName("idempotency_key")] string? IdempotencyKey = null);

internal sealed record BatchResponse(
    [property: JsonPropertyName("created")] int Created,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("items")] IReadOnlyList<BatchItemResult> Items);

/// <summary>
/// One item's outcome, in input order: a result (status 201; <c>replayed</c> when its idempotency key was seen with the
/// same item before, and the result is the stored one) or a problem (400, 413 or 422).
/// </summary>
internal sealed record BatchItemResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("result"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FeedbackResult? Result,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ProblemDetails? Error,
    [property: JsonPropertyName("replayed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Replayed = null);
