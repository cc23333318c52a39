using System.Threading.Channels;
using Feedback.Storage.Alerts;

namespace Feedback.Storage;

/// <summary>
/// The group commit both writers share: requests queue in a bounded channel, one loop takes everything that is waiting,
/// the store commits it in one transaction (<see cref="CommitOnceAsync"/>) and only then is each request completed, so a
/// 201 is sent for committed rows only and concurrent requests share one commit instead of fighting over the store.
/// </summary>
internal abstract partial class GroupCommitWriter : BackgroundService, IFeedbackStore
{
    private const int MaxBatch = 256;

    /// <summary>How many times a commit waits for more writes to arrive while they keep arriving.</summary>
    private const int MaxYields = 3;

    private readonly Channel<IQueuedWrite> _queue = Channel.CreateBounded<IQueuedWrite>(
        new BoundedChannelOptions(8192) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly StoreHealth _health;
    private readonly AlertSignal _signal;
    private readonly ILogger _logger;

    protected GroupCommitWriter(StoreHealth health, AlertSignal signal, ILogger logger)
    {
        _health = health;
        _signal = signal;
        _logger = logger;
    }

    /// <summary>One queued write as a commit sees it; <see cref="Queued{TOperation, TResult}"/> is the only kind.</summary>
    protected interface IQueuedWrite
    {
        /// <summary>Messages and probes speak for the store: a small bookkeeping update can still fit on a disk that refuses messages.</summary>
        bool SpeaksForStore { get; }

        /// <summary>Everything but a heartbeat changes what a reader sees.</summary>
        bool ChangesWhatIsShown { get; }

        /// <summary>Hands the result the commit produced to the caller, once the transaction committed.</summary>
        void Complete();

        void Fail(Exception exception);
    }

    /// <summary>
    /// Whether the loop lets the work already waiting for the thread pool add its writes before a commit starts
    /// (<see cref="LetArrivalsQueueAsync"/>).
    /// </summary>
    protected virtual bool WaitsForArrivals => false;

    /// <summary>
    /// How many commits may be in flight at once. One for a store whose commits take turns on one connection (SQLite);
    /// more where the next batch can be sent while the previous commit waits for its WAL flush (PostgreSQL), each
    /// request still answered only once its own commit has returned.
    /// </summary>
    protected virtual int CommitsInFlight => 1;

    /// <summary>Notified after every commit of something other than heartbeats: what the dashboard's change notices wait for.</summary>
    public StoreChanges Changes { get; } = new();

    /// <summary>Queues a write and completes when it is committed (or refused).</summary>
    /// <exception cref="StoreUnavailableException">The store cannot take writes now.</exception>
    public Task<WriteResult> WriteAsync(NewFeedback item, CancellationToken cancellationToken) =>
        EnqueueAsync<NewFeedback, WriteResult>(item, cancellationToken);

    /// <summary>Writes many messages in one transaction: all are committed, or none.</summary>
    public Task<IReadOnlyList<WriteResult>> WriteBatchAsync(IReadOnlyList<NewFeedback> items, CancellationToken cancellationToken) =>
        EnqueueAsync<NewFeedbackBatch, IReadOnlyList<WriteResult>>(new NewFeedbackBatch(items), cancellationToken);

    /// <summary>Applies a revision; false when the row was no longer provisional (already revised).</summary>
    public Task<bool> ReviseAsync(Revision revision, CancellationToken cancellationToken) =>
        EnqueueAsync<Revision, bool>(revision, cancellationToken);

    /// <summary>Stores a person's label beside a message's answer; false when there is no such message.</summary>
    public Task<bool> LabelAsync(NewLabel label, CancellationToken cancellationToken) =>
        EnqueueAsync<NewLabel, bool>(label, cancellationToken);

    /// <summary>Records a delivery attempt; false when the delivery no longer exists.</summary>
    public Task<bool> RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken) =>
        EnqueueAsync<DeliveryAttempt, bool>(attempt, cancellationToken);

    /// <summary>Puts a group's failed deliveries back in the outbox, due now; how many there were.</summary>
    public Task<int> RetryFailedDeliveriesAsync(DeliveryRetry retry, CancellationToken cancellationToken) =>
        EnqueueAsync<DeliveryRetry, int>(retry, cancellationToken);

    /// <summary>Resolves a group; false when it does not exist or was already resolved.</summary>
    public Task<bool> ResolveGroupAsync(GroupResolution resolution, CancellationToken cancellationToken) =>
        EnqueueAsync<GroupResolution, bool>(resolution, cancellationToken);

    /// <summary>Raises a spike alert; false when this topic already had one for that hour.</summary>
    public Task<bool> RaiseSpikeAsync(TopicSpike spike, CancellationToken cancellationToken) =>
        EnqueueAsync<TopicSpike, bool>(spike, cancellationToken);

    /// <summary>Counts LLM calls that no answer written carries.</summary>
    public Task<bool> RecordLlmUsageAsync(LlmSpend spend, CancellationToken cancellationToken) =>
        EnqueueAsync<LlmSpend, bool>(spend, cancellationToken);

    /// <summary>Commits a tiny heartbeat row stamped <paramref name="at"/>, proving the store takes writes now.</summary>
    public async Task<bool> ProbeAsync(DateTime at, CancellationToken cancellationToken)
    {
        try
        {
            await EnqueueAsync<Probe, bool>(new Probe(at), cancellationToken).WaitAsync(cancellationToken);
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Finish what was accepted before stopping: every queued request gets its answer.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var reader = _queue.Reader;
        var inFlight = new List<Task>(CommitsInFlight);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            if (WaitsForArrivals)
            {
                await LetArrivalsQueueAsync(reader);
            }

            var batch = new List<IQueuedWrite>(Math.Min(MaxBatch, Math.Max(1, reader.Count)));
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (CommitsInFlight == 1)
            {
                await CommitAsync(batch);
                continue;
            }

            // While a commit waits for the server, the next batch is taken and sent: what arrives meanwhile queues for it,
            // so rows per commit grow with the load. At the limit, the loop waits for a commit to return.
            inFlight.Add(CommitAsync(batch));
            if (inFlight.Count == CommitsInFlight)
            {
                inFlight.Remove(await Task.WhenAny(inFlight));
            }
        }

        await Task.WhenAll(inFlight);
        Stopped();
    }

    /// <summary>
    /// Runs every write of the batch in one transaction and commits it, giving each its result
    /// (<see cref="Queued{TOperation, TResult}.Produced"/>); true when it queued deliveries worth waking the dispatcher for.
    /// </summary>
    protected abstract ValueTask<bool> CommitOnceAsync(IReadOnlyList<IQueuedWrite> batch);

    /// <summary>Whether the failure means the store, not the request, is at fault (503 and a retry later).</summary>
    protected abstract bool IsStoreFault(Exception exception);

    /// <summary>Logs a store fault and drops what it may have broken; returns the reason /health and the 503 give.</summary>
    protected abstract string RecordStoreFault(Exception exception);

    /// <summary>Drops what a failed commit may have left behind (its connection, and with it the transaction).</summary>
    protected virtual void AfterFailedCommit()
    {
    }

    /// <summary>The queue is drained and closed: nothing will be committed any more.</summary>
    protected virtual void Stopped()
    {
    }

    /// <summary>
    /// Before a commit starts, lets the work already waiting for the thread pool run first, for as long as it keeps adding
    /// writes to the queue (at most <see cref="MaxYields"/> turns): under load those are requests about to be written, and
    /// each that joins this commit shares its WAL pages and its fsync instead of paying for the next one. A commit writes the
    /// B-tree pages it touched once however many rows went in, so larger commits cost less per row: with the bench's load
    /// on one core, rows per commit went from 26-28 to 28-31 at 64 connections and from 7 to 9 at 16. With nothing else
    /// waiting it costs one turn of the thread pool.
    /// </summary>
    private static async ValueTask LetArrivalsQueueAsync(ChannelReader<IQueuedWrite> reader)
    {
        for (var turn = 0; turn < MaxYields && reader.Count < MaxBatch; turn++)
        {
            var queued = reader.Count;
            await Task.Yield();
            if (reader.Count == queued)
            {
                return;
            }
        }
    }

    private async Task<TResult> EnqueueAsync<TOperation, TResult>(TOperation operation, CancellationToken cancellationToken)
    {
        var pending = new Queued<TOperation, TResult>(operation);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Task;
    }

    private async Task CommitAsync(List<IQueuedWrite> batch)
    {
        try
        {
            var alertsQueued = await CommitOnceAsync(batch);
            if (batch.Exists(p => p.SpeaksForStore))
            {
                _health.RecordSuccess();
            }

            if (alertsQueued)
            {
                _signal.Notify();
            }

            if (batch.Exists(p => p.ChangesWhatIsShown))
            {
                Changes.Notify();
            }

            foreach (var pending in batch)
            {
                pending.Complete();
            }
        }
        catch (Exception exception) when (IsStoreFault(exception))
        {
            var reason = RecordStoreFault(exception);
            _health.RecordFailure(reason);
            var failure = new StoreUnavailableException(reason, exception);
            foreach (var pending in batch)
            {
                pending.Fail(failure);
            }
        }
        catch (Exception exception) when (batch.Count > 1)
        {
            // One bad row must not fail the others: commit them one by one to find it.
            LogBatchRetried(_logger, batch.Count, exception);
            AfterFailedCommit();
            foreach (var pending in batch)
            {
                await CommitAsync([pending]);
            }
        }
        catch (Exception exception)
        {
            LogWriteFailed(_logger, exception);
            AfterFailedCommit();
            batch[0].Fail(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group commit of {Count} writes failed; committing them one by one")]
    private static partial void LogBatchRetried(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A write failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);

    /// <summary>Several messages committed in one transaction (POST /feedback/batch, imports).</summary>
    protected sealed record NewFeedbackBatch(IReadOnlyList<NewFeedback> Items);

    /// <summary>A heartbeat: commits a tiny row, stamped with the caller's clock, proving the store takes writes.</summary>
    protected sealed record Probe(DateTime At);

    /// <summary>
    /// One queued operation and the result its commit produced. It is its own completion, one object per request
    /// instead of two.
    /// </summary>
    protected sealed class Queued<TOperation, TResult>(TOperation operation)
        : TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously), IQueuedWrite
    {
        private TResult _result = default!;

        public TOperation Operation { get; } = operation;

        public bool SpeaksForStore => Operation is NewFeedback or NewFeedbackBatch or Probe;

        public bool ChangesWhatIsShown => Operation is not Probe;

        /// <summary>Holds the operation's result until its transaction has committed.</summary>
        public void Produced(TResult result) => _result = result;

        public void Complete() => TrySetResult(_result);

        public void Fail(Exception exception) => TrySetException(exception);
    }
}
