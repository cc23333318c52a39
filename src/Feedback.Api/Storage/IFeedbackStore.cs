namespace Feedback.Api.Storage;

/// <summary>
/// Every write the service makes, whichever database holds the rows: <see cref="FeedbackWriter"/> for the SQLite file,
/// <see cref="PostgresWriter"/> for PostgreSQL. Both group-commit concurrent writes and complete a call only once its
/// transaction committed.
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

    /// <summary>Commits a tiny heartbeat row, proving the store takes writes now.</summary>
    Task<bool> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>Records a delivery attempt; false when the delivery no longer exists or was delivered already.</summary>
    Task<bool> RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken);

    /// <summary>Resolves a group; false when it does not exist or was already resolved.</summary>
    Task<bool> ResolveGroupAsync(GroupResolution resolution, CancellationToken cancellationToken);

    /// <summary>Raises a spike alert; false when this topic already had one for that hour.</summary>
    Task<bool> RaiseSpikeAsync(TopicSpike spike, CancellationToken cancellationToken);
}
