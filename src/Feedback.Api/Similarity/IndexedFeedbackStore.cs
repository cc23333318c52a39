using Feedback.Storage;

namespace Feedback.Api.Similarity;

/// <summary>
/// The store with the similarity index kept current: a message's vector joins the index once its row is committed
/// (a new row, or a revision that brought a vector), so this instance finds its own writes at once.
/// </summary>
internal sealed class IndexedFeedbackStore(IFeedbackStore store, SimilarMessages similar) : IFeedbackStore
{
    public async Task<WriteResult> WriteAsync(NewFeedback item, CancellationToken cancellationToken)
    {
        var result = await store.WriteAsync(item, cancellationToken);
        Index(result);
        return result;
    }

    public async Task<IReadOnlyList<WriteResult>> WriteBatchAsync(IReadOnlyList<NewFeedback> items, CancellationToken cancellationToken)
    {
        var results = await store.WriteBatchAsync(items, cancellationToken);
        foreach (var result in results)
        {
            Index(result);
        }

        return results;
    }

    public async Task<bool> ReviseAsync(Revision revision, CancellationToken cancellationToken)
    {
        var revised = await store.ReviseAsync(revision, cancellationToken);
        if (revised && revision.Answer is { Embedding: { } embedding })
        {
            similar.Add(revision.FeedbackId, embedding);
        }

        return revised;
    }

    public Task<bool> LabelAsync(NewLabel label, CancellationToken cancellationToken) => store.LabelAsync(label, cancellationToken);

    public Task<bool> ProbeAsync(DateTime at, CancellationToken cancellationToken) => store.ProbeAsync(at, cancellationToken);

    public Task<bool> RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken) => store.RecordAttemptAsync(attempt, cancellationToken);

    public Task<int> RetryFailedDeliveriesAsync(DeliveryRetry retry, CancellationToken cancellationToken) =>
        store.RetryFailedDeliveriesAsync(retry, cancellationToken);

    public Task<bool> ResolveGroupAsync(GroupResolution resolution, CancellationToken cancellationToken) => store.ResolveGroupAsync(resolution, cancellationToken);

    public Task<bool> RaiseSpikeAsync(TopicSpike spike, CancellationToken cancellationToken) => store.RaiseSpikeAsync(spike, cancellationToken);

    public Task<bool> RecordLlmUsageAsync(LlmSpend spend, CancellationToken cancellationToken) => store.RecordLlmUsageAsync(spend, cancellationToken);

    private void Index(WriteResult result)
    {
        if (result.Outcome == WriteOutcome.Created)
        {
            similar.Add(result.Record.Id, result.Record.Embedding);
        }
    }
}
