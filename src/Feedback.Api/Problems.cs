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
        StatusCodes.Status401Unauthorized, "unauthorized", "Missing or invalid API key",
        "Send a valid key in the X-API-Key header.");

    public static ProblemHttpResult Forbidden() => Make(
        StatusCodes.Status403Forbidden, "forbidden", "This key may not do this",
        "The API key is valid but lacks the scope this request needs (ingest, read or admin).");

    public static ProblemHttpResult InvalidJson(string detail) => Make(
        StatusCodes.Status400BadRequest, "invalid-json", "The body is not valid JSON", detail);

    public static ProblemHttpResult WrongTypes(IDictionary<string, string[]> errors) => Make(
        StatusCodes.Status400BadRequest, "invalid-field-type", "A field has the wrong type",
        "One or more fields have the wrong JSON type; see errors.", errors);

    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, string[]>? errors = null) => Make(
        StatusCodes.Status400BadRequest, "bad-request", "The request is not valid", detail, errors);

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) => Make(
        StatusCodes.Status422UnprocessableEntity, "validation", "The request is not valid",
        "One or more fields are not valid; see errors.", errors);

    public static ProblemHttpResult IdempotencyKeyReused() => Make(
        StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused with a different body",
        "This Idempotency-Key was already used for a request with a different body. Use a new key for a new message.");

    public static ProblemHttpResult UnsupportedMediaType() => Make(
        StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported content type",
        "Send the body as application/json.");

    public static ProblemHttpResult TooLarge(int limit) => Make(
        StatusCodes.Status413PayloadTooLarge, "payload-too-large", "The body is too large",
        $"The body may be at most {limit} bytes.");

    public static ProblemHttpResult NotFound(string detail) => Make(
        StatusCodes.Status404NotFound, "not-found", "Not found", detail);

    public static ProblemHttpResult StoreUnavailable(string reason) => Make(
        StatusCodes.Status503ServiceUnavailable, "store-unavailable", "The store cannot accept writes",
        $"Nothing was stored: {reason}. Retry after the time in Retry-After.");

    /// <summary>A search the store stopped at its time budget: 503, as for any read the service cannot finish now.</summary>
    public static ProblemHttpResult SearchTimedOut(TimeSpan budget) => Make(
        StatusCodes.Status503ServiceUnavailable, "search-timeout", "The search took too long",
        $"The search was stopped after {budget.TotalMilliseconds:0} ms (SEARCH_TIMEOUT_MS). Narrow it with more words, longer prefixes or from/to.");

    public static ProblemHttpResult Unexpected() => Make(
        StatusCodes.Status500InternalServerError, "internal", "An unexpected error occurred",
        "The error was logged. Nothing in this response describes it further.");

    public static ProblemHttpResult Make(int status, string type, string title, string detail, IDictionary<string, string[]>? errors = null)
    {
        var problem = new ProblemDetails { Type = $"/problems/{type}", Title = title, Status = status, Detail = detail };
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }

        return TypedResults.Problem(problem);
    }
}
