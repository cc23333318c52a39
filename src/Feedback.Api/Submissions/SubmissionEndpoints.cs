using System.ComponentModel;
using System.Reflection;
using System.Security.Claims;
using Feedback.Api.Operations;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Feedback.Api.Submissions;

internal static class SubmissionEndpoints
{
    public static RouteGroupBuilder MapSubmissions(this RouteGroupBuilder group)
    {
        group.MapPost("/", SubmitAsync)
            .RequireAuthorization(Scopes.Ingest)
            .WithName("SubmitFeedback")
            .WithTags("Feedback")
            .WithSummary("Classify one message, store it and raise an alert when it needs a person.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Created<FeedbackResult>, ProblemHttpResult>> SubmitAsync(
        SubmissionBody body,
        [FromHeader(Name = IdempotencyKeys.Header), Description(IdempotencyKeys.Description)] string[]? idempotencyKey,
        ClaimsPrincipal user,
        HttpContext context,
        SubmitHandler handler,
        CancellationToken cancellationToken)
    {
        string? storedKey = null;
        if (idempotencyKey is { Length: > 0 })
        {
            if (idempotencyKey.Length != 1 || !IdempotencyKeys.IsUsable(idempotencyKey[0]))
            {
                return Problems.BadRequest(
                    $"{IdempotencyKeys.Header} must be one value of {IdempotencyKeys.Rule}.",
                    new Dictionary<string, string[]>(StringComparer.Ordinal) { [IdempotencyKeys.Header] = ["Not a valid key."] });
            }

            storedKey = IdempotencyKeys.Stored(user.KeyId(), idempotencyKey[0]);
        }

        if (body.Problem is { } problem)
        {
            return problem;
        }

        var (written, cacheHit) = await handler.SubmitAsync(new KeyedSubmission(body.Submission!, storedKey), cancellationToken);
        if (written.Outcome == WriteOutcome.KeyReused)
        {
            return Problems.IdempotencyKeyReused();
        }

        context.Items[RequestLogging.FeedbackIdItem] = written.Record.Id;
        context.Items[RequestLogging.CacheHitItem] = cacheHit;
        if (written.Outcome == WriteOutcome.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Created($"/feedback/{written.Record.Id}", new FeedbackResult(written.Record));
    }
}

/// <summary>
/// POST /feedback's body, bound by <see cref="SubmissionReader"/> rather than by the JSON binder, so that each way a body
/// can be wrong gets the status and problem the contract names (415, 413, 400, 422) instead of the binder's one 400.
/// </summary>
internal sealed record SubmissionBody(Submission? Submission, ProblemHttpResult? Problem) : IBindableFromHttpContext<SubmissionBody>
{
    public static async ValueTask<SubmissionBody?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var (submission, problem) = await SubmissionReader.ReadAsync(context.Request, context.RequestAborted);
        return new SubmissionBody(submission, problem);
    }
}
