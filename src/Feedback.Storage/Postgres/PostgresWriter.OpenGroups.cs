using Feedback.Storage.Alerts;

namespace Feedback.Storage.Postgres;

internal sealed partial class PostgresWriter
{
    /// <summary>
    /// The topics' open feedback groups as this writer last saw them, so a commit with alerts need not read them again (as
    /// the SQLite writer holds them). What the store holds is named by the topic's row in alert_topic_versions, which every
    /// transaction that changes a topic's groups moves on (version + 1): this writer's grouping stamped with its commit's
    /// token, anything else (a resolution, another process's SQL) through the table's trigger, stamped 0. A commit reads
    /// that row under the topic's lock, in the same statement as the groups, and the server returns the
    /// groups only when the row names no state held here. The states held are the topic's last one read or committed, and
    /// the states the commits in flight leave (<see cref="Expect"/>, <see cref="Publish"/>): with two commits in flight, the
    /// second takes the topic's lock when the first has committed and finds its token on the row.
    /// </summary>
    private sealed class OpenGroups
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, Topic> _topics = new(StringComparer.Ordinal);

        /// <summary>
        /// What a commit may find on a topic's row and hold already: the state held (<see cref="Version"/> -1: none), and the
        /// tokens of the commits in flight on the topic.
        /// </summary>
        public sealed record Known(long Version, long ChangedBy, long[] InFlight)
        {
            /// <summary>Whether the row names a state held or one a commit in flight leaves: the server then sends no groups.</summary>
            public bool Names(long version, long changedBy) => (version == Version && changedBy == ChangedBy) || InFlight.Contains(changedBy);
        }

        /// <summary>
        /// Registers a commit (<paramref name="token"/>) that will read the topic under its lock, and returns what the commit
        /// may then find named on the topic's row.
        /// </summary>
        public Known Enter(string topic, long token)
        {
            lock (_lock)
            {
                var state = Of(topic);
                var known = new Known(state.Held?.Version ?? -1, state.Held?.ChangedBy ?? 0, [.. state.InFlight]);
                state.InFlight.Add(token);
                return known;
            }
        }

        /// <summary>
        /// The topic's groups as the row (<paramref name="version"/>, <paramref name="changedBy"/>) names them, if held; the
        /// groups of a commit whose token is on the row once it has read back the ids of the groups it opened. That commit
        /// has committed (its token is on the row), so the wait is for its answer to be read, never for a lock.
        /// </summary>
        public async Task<TopicGroups?> FindAsync(string topic, long version, long changedBy)
        {
            Task<TopicGroups?> pending;
            lock (_lock)
            {
                var state = Of(topic);
                if (state.Held is { } held && held.Version == version && held.ChangedBy == changedBy)
                {
                    return held;
                }

                if (!state.Pending.TryGetValue(changedBy, out var published))
                {
                    return null;
                }

                pending = published.Task;
            }

            return await pending is { } groups && groups.Version == version ? groups : null;
        }

        /// <summary>Holds groups read from the store, unless a later state is held already.</summary>
        public void Read(string topic, TopicGroups groups)
        {
            lock (_lock)
            {
                Hold(Of(topic), groups);
            }
        }

        /// <summary>
        /// A commit in flight is about to change the topic's groups and put its token on the topic's row: registered before
        /// its writes are sent, so that a commit that finds the token there (which it can only once this one committed)
        /// knows to wait for <see cref="Publish"/>.
        /// </summary>
        public void Expect(string topic, long token)
        {
            lock (_lock)
            {
                Of(topic).Pending[token] = new TaskCompletionSource<TopicGroups?>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        /// <summary>The groups a commit in flight leaves, once the ids of the groups it opened are known.</summary>
        public void Publish(string topic, long token, TopicGroups groups)
        {
            lock (_lock)
            {
                if (Of(topic).Pending.TryGetValue(token, out var pending))
                {
                    pending.TrySetResult(groups);
                }
            }
        }

        /// <summary>
        /// A commit ended: what it published is held when it committed (a later state may be held by then), and dropped
        /// when it did not or may not have; whoever waits for it without a result reads the groups itself.
        /// </summary>
        public void Leave(IEnumerable<string> topics, long token, bool committed)
        {
            lock (_lock)
            {
                foreach (var topic in topics)
                {
                    var state = Of(topic);
                    state.InFlight.Remove(token);
                    if (!state.Pending.Remove(token, out var pending))
                    {
                        continue;
                    }

                    if (committed && pending.Task.IsCompletedSuccessfully && pending.Task.Result is { } published)
                    {
                        Hold(state, published);
                    }

                    pending.TrySetResult(null);
                }
            }
        }

        private static void Hold(Topic state, TopicGroups groups)
        {
            if (state.Held is null || groups.Version > state.Held.Version)
            {
                state.Held = groups;
            }
        }

        private Topic Of(string topic)
        {
            if (!_topics.TryGetValue(topic, out var state))
            {
                _topics[topic] = state = new Topic();
            }

            return state;
        }

        private sealed class Topic
        {
            public TopicGroups? Held { get; set; }

            public List<long> InFlight { get; } = [];

            public Dictionary<long, TaskCompletionSource<TopicGroups?>> Pending { get; } = [];
        }
    }

    /// <summary>
    /// A topic's newest open feedback groups, oldest first, as many as <see cref="AlertGrouping.RecentGroups"/>, as they
    /// stand when its row in alert_topic_versions reads (<paramref name="Version"/>, <paramref name="ChangedBy"/>).
    /// </summary>
    private sealed record TopicGroups(long Version, long ChangedBy, IReadOnlyList<OpenAlertGroup> Groups);
}
