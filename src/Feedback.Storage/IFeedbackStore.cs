using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;

namespace Feedback.Storage;

/// <summary>
/// Every write the service makes, whichever database holds the rows: <see cref="FeedbackWriter"/> for the SQLite file,
/// <see cref="PostgresWriter"/> for PostgreSQL. Both group-commit concurrent writes (<see cref="GroupCommitWriter"/>) and
/// complete a call only once its transaction committed.
/// </summary>
internal interface IFeedbackStore
{
    /// <summary>Stores one message (and its alert); completes when committed.</summary>
    /// <exception cref="StoreUnavailableException">The store cannot take writes now.</exception>
    Task<WriteResult> WriteAsync(NewFeedback item, CancellationToken cancellationToken);

    /// <summary>Writes many messages in one transaction: all are committed, or none.</summary>
    Task<IReadOnlyList<WriteResult>> WriteBatchAsync(IReadOnlyList<NewFeedback> items, CancellationToken cancellationToken);

    /// <summary>Applies a revision; false when the row was no longer provisional (already revised).</summary>
    Task<bool> ReviseAsync(Revision revision, CancellationToken cancellationToken);

    /// <summary>Stores a person's label beside a message's answer; false when there is no such message.</summary>
    Task<bool> LabelAsync(NewLabel label, CancellationToken cancellationToken);

    /// <summary>Commits a tiny heartbeat row stamped <paramref name="at"/>, proving the store takes writes now.</summary>
    Task<bool> ProbeAsync(DateTime at, CancellationToken cancellationToken);

    /// <summary>Records a delivery attempt; false when the delivery no longer exists or was delivered already.</summary>
    Task<bool> RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken);

    /// <summary>Puts a group's failed deliveries back in the outbox, due now; how many there were.</summary>
    Task<int> RetryFailedDeliveriesAsync(DeliveryRetry retry, CancellationToken cancellationToken);

    /// <summary>Resolves a group; false when it does not exist or was already resolved.</summary>
    Task<bool> ResolveGroupAsync(GroupResolution resolution, CancellationToken cancellationToken);

    /// <summary>Raises a spike (or emerging theme) alert; false when its dedup key already has a group.</summary>
    Task<bool> RaiseSpikeAsync(TopicSpike spike, CancellationToken cancellationToken);

    /// <summary>
    /// Counts LLM calls that no answer written carries (one whose better answer never came, reclassify's unchanged rows):
    /// the provider billed them all the same.
    /// </summary>
    Task<bool> RecordLlmUsageAsync(LlmSpend spend, CancellationToken cancellationToken);
}

/// <summary>
/// A message to store, with the alert it raises when <see cref="RaiseAlert"/> is set, in the group instances
/// agreed on in Redis when <see cref="Group"/> is set. <see cref="Followed"/> says this instance follows the LLM call
/// of a provisional answer, so no other instance's sweep should ask again while that call may still answer.
/// <see cref="Usage"/> is what the LLM calls made for its answer cost, counted in the same transaction (a replay's too:
/// the provider billed the call).
/// </summary>
internal sealed record NewFeedback(FeedbackRecord Record, bool RaiseAlert, SharedGroup? Group = null, bool Followed = false, LlmUsage Usage = default);

/// <summary>
/// Replaces a provisional answer. <see cref="Answer"/> holds the new labels (sentiment, topic, scores,
/// method, model, prompt version), or is null when the LLM gave no answer and the local one becomes final.
/// <see cref="ReplacesFinal"/> lets it replace a final answer too (reclassify); otherwise a row no longer
/// provisional is left alone, so a late LLM answer cannot overwrite a later one. <see cref="Usage"/> is what the LLM
/// calls behind it cost, counted in the same transaction whether or not the row still takes the revision.
/// </summary>
internal sealed record Revision(long FeedbackId, FeedbackRecord? Answer, bool RaiseAlert, string Reason, DateTime At, bool ReplacesFinal = false, LlmUsage Usage = default);

/// <summary>LLM calls made at <see cref="At"/> that no stored answer carries.</summary>
internal sealed record LlmSpend(LlmUsage Usage, DateTime At);

/// <summary>A person's sentiment and topic (wire names) for a stored message, set by the API key named <see cref="By"/>.</summary>
internal sealed record NewLabel(long FeedbackId, string Sentiment, string Topic, DateTime At, string By);

/// <summary>What became of a write.</summary>
internal enum WriteOutcome
{
    /// <summary>A new row was committed.</summary>
    Created,

    /// <summary>The Idempotency-Key was seen with the same body: the earlier row is returned.</summary>
    Replayed,

    /// <summary>The Idempotency-Key was seen with a different body.</summary>
    KeyReused,
}

internal sealed record WriteResult(WriteOutcome Outcome, FeedbackRecord Record);

/// <summary>What became of a delivery attempt.</summary>
internal enum AttemptOutcome
{
    /// <summary>The receiver took it: the delivery is done.</summary>
    Delivered,

    /// <summary>It failed; the delivery is tried again at <see cref="DeliveryAttempt.NextAttemptAt"/>.</summary>
    RetryLater,

    /// <summary>It failed for good (a permanent answer, or the last attempt allowed): parked until retried by hand.</summary>
    Failed,
}

/// <summary>A delivery attempt's outcome; <see cref="NextAttemptAt"/> matters only for <see cref="AttemptOutcome.RetryLater"/>.</summary>
internal sealed record DeliveryAttempt(long DeliveryId, AttemptOutcome Outcome, DateTime At, DateTime NextAttemptAt, string? Error)
{
    public bool Delivered => Outcome == AttemptOutcome.Delivered;

    /// <summary>The delivery's state after this attempt, as the <c>alert_deliveries.state</c> column holds it.</summary>
    public string State => Outcome switch
    {
        AttemptOutcome.Delivered => "delivered",
        AttemptOutcome.Failed => "failed",
        _ => "pending",
    };
}

/// <summary>An operator asked for a group's failed deliveries to be sent again (POST /alerts/{id}/retry).</summary>
internal sealed record DeliveryRetry(long GroupId, DateTime At);

/// <summary>An operator closed a group (POST /alerts/{id}/resolve).</summary>
internal sealed record GroupResolution(long GroupId, DateTime At);

/// <summary>
/// A topic's negative count far above its baseline; one group per topic and hour. <see cref="Kind"/> is the group's kind:
/// <c>spike</c>, or <c>theme</c> for an emerging theme (whose <see cref="DedupKey"/> names the theme and its hour).
/// </summary>
internal sealed record TopicSpike(string Topic, string Severity, string Summary, string DedupKey, DateTime At, string Kind = "spike");
