using Feedback.Storage;

namespace Feedback.Api.Dashboard;

/// <summary>
/// What the dashboard's streams wait on: this instance's commits (<see cref="StoreChanges"/> from the writer) and,
/// with Redis, the other instances' (<see cref="Remote"/>, fed by <see cref="RedisChangeRelay"/>). Waiting asks the
/// store nothing, so an open tab costs nothing while nothing is written.
/// </summary>
internal sealed class ChangeFeed(StoreChanges local)
{
    /// <summary>Commits another instance announced.</summary>
    public StoreChanges Remote { get; } = new();

    public long Version => local.Version + Remote.Version;

    /// <summary>Completes once <see cref="Version"/> differs from <paramref name="seen"/>.</summary>
    public async Task WaitAsync(long seen, CancellationToken cancellationToken)
    {
        // Taken before the comparison: a commit in between shows in the version, a later one completes a task.
        var localNext = local.Next;
        var remoteNext = Remote.Next;
        if (Version != seen)
        {
            return;
        }

        await Task.WhenAny(localNext, remoteNext).WaitAsync(cancellationToken);
    }
}
