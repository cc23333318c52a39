namespace Feedback.Storage.Alerts;

/// <summary>
/// Wakes the dispatcher when the writer has queued deliveries, so it does not wait for its next poll. Every commit
/// with an alert notifies, so a notification is one interlocked exchange when the dispatcher is already signalled or
/// busy, and only a waiting dispatcher is woken (one thread hand-off, which is costly on a paravirtualised VM).
/// </summary>
internal sealed class AlertSignal
{
    private int _signalled;
    private TaskCompletionSource? _waiter;

    public void Notify()
    {
        // Already signalled: the pending wake-up covers every write before this one.
        if (Interlocked.Exchange(ref _signalled, 1) == 1)
        {
            return;
        }

        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    /// <summary>Completes at once when notified since the last wait, else on the next notification. One waiter at a time.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _signalled, 0) == 1)
        {
            return Task.CompletedTask;
        }

        // Asynchronous continuations: the dispatcher's feed must not run on the writer's thread inside Notify.
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);

        // A notification between the check above and publishing the waiter found no waiter to complete.
        if (Interlocked.Exchange(ref _signalled, 0) == 1)
        {
            Interlocked.CompareExchange(ref _waiter, null, waiter);
            return Task.CompletedTask;
        }

        return ConsumeAsync(waiter.Task, cancellationToken);
    }

    private async Task ConsumeAsync(Task notified, CancellationToken cancellationToken)
    {
        await notified.WaitAsync(cancellationToken);

        // The notification that completed the waiter is this wake-up's; later ones signal the next wait.
        Interlocked.Exchange(ref _signalled, 0);
    }
}
