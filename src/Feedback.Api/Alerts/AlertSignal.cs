namespace Feedback.Api.Alerts;

/// <summary>Wakes the dispatcher when the writer has queued deliveries, so it does not wait for its next poll.</summary>
internal sealed class AlertSignal
{
    private readonly SemaphoreSlim _pulse = new(0, 1);

    public void Notify()
    {
        try
        {
            _pulse.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every write before it.
        }
    }

    /// <summary>Completes when notified or when <paramref name="timeout"/> passes on <paramref name="time"/>'s clock.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pulse = _pulse.WaitAsync(linked.Token);
        var delay = Task.Delay(timeout, time, linked.Token);
        await Task.WhenAny(pulse, delay);
        await linked.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
