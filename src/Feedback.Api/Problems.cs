using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Feedback.Api;

/// <summary>
/// Every error the API sends, as RFC 9457 problem details with a stable <c>type</c> per kind of error.
/// Details never echo the submitted text.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult Unauthorized() => Make(
        ProblemTypes.Unauthorized,
        "Send a valid key in the X-API-Key header.");

    public static ProblemHttpResult Forbidden() => Make(
        ProblemTypes.Forbidden,
        "The API key is valid but lacks the scope this request needs (ingest, read or admin).");

    public static ProblemHttpResult InvalidJson(string detail) => Make(ProblemTypes.InvalidJson, detail);

    public static ProblemHttpResult WrongTypes(IDictionary<string, string[]> errors) => Make(
        ProblemTypes.InvalidFieldType,
        "One or more fields have the wrong JSON type; see errors.", errors);

    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, string[]>? errors = null) => Make(ProblemTypes.BadRequest, detail, errors);

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) => Make(
        ProblemTypes.Validation,
        "One or more fields are not valid; see errors.", errors);

    public static ProblemHttpResult IdempotencyKeyReused() => Make(
        ProblemTypes.IdempotencyKeyReused,
        "This Idempotency-Key was already used for a request with a different body. Use a new key for a new message.");

    public static ProblemHttpResult UnsupportedMediaType() => Make(
        ProblemTypes.UnsupportedMediaType,
        "Send the body as application/json.");

    public static ProblemHttpResult TooLarge(int limit) => Make(
        ProblemTypes.PayloadTooLarge,
        $"The body may be at most {limit} bytes.");

    public static ProblemHttpResult NotFound(string detail) => Make(ProblemTypes.NotFound, detail);

    public static ProblemHttpResult StoreUnavailable(string reason) => Make(
        ProblemTypes.StoreUnavailable,
        $"Nothing was stored: {reason}. Retry after the time in Retry-After.");

    /// <summary>A search the store stopped at its time budget: 503, as for any read the service cannot finish now.</summary>
    public static ProblemHttpResult SearchTimedOut(TimeSpan budget) => Make(
        ProblemTypes.SearchTimeout,
        $"The search was stopped after {budget.TotalMilliseconds:0} ms (SEARCH_TIMEOUT_MS). Narrow it with more words, longer prefixes or from/to.");

    public static ProblemHttpResult Unexpected() => Make(
        ProblemTypes.Internal,
        "The error was logged. Nothing in this response describes it further.");

    /// <summary>An answer of <paramref name="type"/>; <paramref name="title"/> overrides the type's own where one kind of error has several cases.</summary>
    public static ProblemHttpResult Make(ProblemType type, string detail, IDictionary<string, string[]>? errors = null, string? title = null)
    {
        var problem = new ProblemDetails { Type = type.Uri, Title = title ?? type.Title, Status = type.Status, Detail = detail };
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }

        return TypedResults.Problem(problem);
    }
}
