namespace Feedback.Storage;

/// <summary>
/// Tells readers that the writer committed something a person could see (a message, a revision, a label, an alert,
/// a delivery attempt, a resolution), so a live view waits for a commit instead of asking the store on a timer.
/// A number that grows with every such commit, and a task that completes at the next one; heartbeats do not count.
/// </summary>
public sealed class StoreChanges
{
    private long _version;
    private int _awaited;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many commits this process has been told of.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>
    /// Completes at the next <see cref="Notify"/>. Take it before comparing <see cref="Version"/> with the last one
    /// seen: a commit between the two then shows in the version, and one after it completes this task.
    /// </summary>
    public Task Next
    {
        get
        {
            Volatile.Write(ref _awaited, 1);
            return Volatile.Read(ref _next).Task;
        }
    }

    /// <summary>
    /// One increment per commit; a completion (and a new task) only when someone took <see cref="Next"/> since the
    /// last one, so a commit nobody watches costs the writer no allocation. Continuations never run on its thread.
    /// </summary>
    public void Notify()
    {
        Interlocked.Increment(ref _version);
        if (Interlocked.Exchange(ref _awaited, 0) == 1)
        {
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }
}
