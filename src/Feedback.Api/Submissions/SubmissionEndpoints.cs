using System.Text.Json;
using Feedback.Analysis;
using Feedback.Api.Queries;
using Feedback.Api.Security;
using Feedback.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Feedback.Api.Submissions;

internal static class SubmissionEndpoints
{
    public const string IdempotencyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 255;

    public static RouteGroupBuilder MapSubmissions(this RouteGroupBuilder group)
    {
        group.MapPost("/", SubmitAsync)
            .WithName("SubmitFeedback")
            .WithSummary("Classify one message, store it and raise an alert when it needs a person.")
            .Produces<FeedbackResult>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Created<FeedbackResult>, ProblemHttpResult>> SubmitAsync(
        HttpContext context,
        Analyzer analyzer,
        AlertRule alertRule,
        FeedbackWriter writer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        string? idempotencyKey = null;
        if (context.Request.Headers.TryGetValue(IdempotencyHeader, out var keyValues))
        {
            var key = keyValues.Count == 1 ? keyValues[0] : null;
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength || key.Any(c => c is < ' ' or > '~'))
            {
                return Problems.BadRequest(
                    $"{IdempotencyHeader} must be one value of 1 to {MaxIdempotencyKeyLength} printable ASCII characters.",
                    new Dictionary<string, string[]>(StringComparer.Ordinal) { [IdempotencyHeader] = ["Not a valid key."] });
            }

            // Keys are scoped to the API key that sent them, so two clients cannot collide.
            idempotencyKey = $"{context.User.KeyId()}:{key}";
        }

        var (submission, problem) = await SubmissionReader.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var result = analyzer.Analyze(submission!.Text);
        var alert = alertRule.Triggers(result);
        var record = ToRecord(submission, result, alert, time.GetUtcNow().UtcDateTime, idempotencyKey);

        var written = await writer.WriteAsync(new NewFeedback(record, alert), cancellationToken);
        if (written.Outcome == WriteOutcome.KeyReused)
        {
            return Problems.IdempotencyKeyReused();
        }

        if (written.Outcome == WriteOutcome.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Created($"/feedback/{written.Record.Id}", new FeedbackResult(written.Record));
    }

    private static FeedbackRecord ToRecord(Submission submission, AnalysisResult result, bool alert, DateTime now, string? idempotencyKey)
    {
        var c = result.Classification;
        return new FeedbackRecord
        {
            Text = submission.Text,
            Source = submission.Source,
            CustomerId = submission.CustomerId,
            Metadata = submission.Metadata,
            Sentiment = WireNames.Of(c.Sentiment),
            Topic = WireNames.Of(c.Topic),
            Confidence = c.Confidence,
            ConfidenceScore = WireNames.Of(c.ConfidenceLevel),
            ScorePositive = c.Scores.Positive,
            ScoreNegative = c.Scores.Negative,
            ScoreNeutral = c.Scores.Neutral,
            ScoreMixed = c.Scores.Mixed,
            AlertTriggered = alert,
            ProcessingMethod = WireNames.Of(result.Method),
            Language = c.Language,
            PromptVersion = result.PromptVersion,
            Model = result.Model,
            Status = "final",
            Warnings = result.Warnings.Count == 0 ? "[]" : JsonSerializer.Serialize(result.Warnings),
            CreatedAt = now,
            IdempotencyKey = idempotencyKey,
            RequestHash = idempotencyKey is null ? null : submission.BodyHash,
        };
    }
}
