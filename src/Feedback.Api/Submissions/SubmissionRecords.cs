using Feedback.Analysis;
using Feedback.Storage;

namespace Feedback.Api.Submissions;

/// <summary>Turns a checked submission and its answer into the row to store (POST /feedback and its batch form).</summary>
internal static class SubmissionRecords
{
    public static FeedbackRecord ToRecord(Submission submission, AnalysisResult result, bool alert, DateTime now, string? idempotencyKey, Taxonomy taxonomy)
    {
        var record = new FeedbackRecord
        {
            Text = submission.Text,
            Source = submission.Source,
            CustomerId = submission.CustomerId,
            Metadata = submission.Metadata,
            CreatedAt = now,
            IdempotencyKey = idempotencyKey,
            RequestHash = idempotencyKey is null ? null : submission.BodyHash,
        };
        record.Apply(result, alert, taxonomy);
        return record;
    }
}

