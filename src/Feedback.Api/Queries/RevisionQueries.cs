using System.Text.Json.Serialization;
using Feedback.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Feedback.Api.Security;

namespace Feedback.Api.Queries;

/// <summary>GET /feedback/{id}/revisions: how a stored answer changed, oldest first (from feedback_revisions).</summary>
internal static class RevisionQueries
{
    public static RouteGroupBuilder MapRevisions(this RouteGroupBuilder group)
    {
        group.MapGet("/{id:long}/revisions", ListAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("ListFeedbackRevisions")
            .WithTags("Feedback")
            .WithSummary("The history of one message's answer: each revision with the answer before and after, and why.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<RevisionList>, ProblemHttpResult>> ListAsync(long id, FeedbackDb db, CancellationToken cancellationToken)
    {
        if (!await db.Feedback.AnyAsync(f => f.Id == id, cancellationToken))
        {
            return Problems.NotFound($"There is no feedback with id {id}.");
        }

        var rows = await db.Revisions.AsNoTracking().Where(r => r.FeedbackId == id).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new RevisionList(id, rows.ConvertAll(r => new RevisionView(r))));
    }
}

internal sealed record RevisionList(
    [property: JsonPropertyName("feedback_id")] long FeedbackId,
    [property: JsonPropertyName("items")] IReadOnlyList<RevisionView> Items);

internal sealed class RevisionView(FeedbackRevision revision)
{
    [JsonPropertyName("revised_at")]
    public DateTime RevisedAt { get; } = DateTime.SpecifyKind(revision.RevisedAt, DateTimeKind.Utc);

    [JsonPropertyName("previous")]
    public RevisionAnswer Previous { get; } = new(revision.PreviousSentiment, revision.PreviousTopic, revision.PreviousConfidence, revision.PreviousMethod, null, null);

    [JsonPropertyName("current")]
    public RevisionAnswer Current { get; } = new(revision.Sentiment, revision.Topic, revision.Confidence, revision.Method, revision.PromptVersion, revision.Model);

    [JsonPropertyName("reason")]
    public string Reason { get; } = revision.Reason;
}

internal sealed record RevisionAnswer(
    [property: JsonPropertyName("sentiment")] string Sentiment,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("confidence")] double Confidence,
    [property: JsonPropertyName("processing_method")] string ProcessingMethod,
    [property: JsonPropertyName("prompt_version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PromptVersion,
    [property: JsonPropertyName("model"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model);
