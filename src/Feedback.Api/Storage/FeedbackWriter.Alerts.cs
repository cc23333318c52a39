using Feedback.Api.Alerts;
using Microsoft.Data.Sqlite;

namespace Feedback.Api.Storage;

/// <summary>A delivery attempt's outcome: delivered, or to be tried again at <see cref="NextAttemptAt"/>.</summary>
internal sealed record DeliveryAttempt(long DeliveryId, bool Delivered, DateTime At, DateTime NextAttemptAt, string? Error);

/// <summary>An operator closed a group (POST /alerts/{id}/resolve).</summary>
internal sealed record GroupResolution(long GroupId, DateTime At);

/// <summary>A topic's negative count far above its baseline; one group per topic and hour.</summary>
internal sealed record TopicSpike(string Topic, string Severity, string Summary, string DedupKey, DateTime At);

internal sealed partial class FeedbackWriter
{
    /// <summary>Records a delivery attempt; false when the delivery no longer exists.</summary>
    public async Task<bool> RecordAttemptAsync(DeliveryAttempt attempt, CancellationToken cancellationToken) =>
        (bool)(await EnqueueAsync(attempt, cancellationToken))!;

    /// <summary>Resolves a group; false when it does not exist or was already resolved.</summary>
    public async Task<bool> ResolveGroupAsync(GroupResolution resolution, CancellationToken cancellationToken) =>
        (bool)(await EnqueueAsync(resolution, cancellationToken))!;

    /// <summary>Raises a spike alert; false when this topic already had one for that hour.</summary>
    public async Task<bool> RaiseSpikeAsync(TopicSpike spike, CancellationToken cancellationToken) =>
        (bool)(await EnqueueAsync(spike, cancellationToken))!;

    private async Task<object?> EnqueueAsync(object operation, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(operation);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Completion.Task;
    }

    /// <summary>The alert half of the writer's statements: grouping, the outbox, resolutions and spikes.</summary>
    private sealed partial class Statements
    {
        private const string PagerDuty = "pagerduty";

        private readonly AlertPolicy _alerts;
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
        private readonly OpenGroups _openGroups = new();
        private SqliteTransaction? _transaction;
        private bool _alertsWritten;

        /// <summary>True once after a commit that queued deliveries, so the dispatcher can be woken.</summary>
        public bool TakeAlertsWritten()
        {
            var written = _alertsWritten;
            _alertsWritten = false;
            return written;
        }

        /// <summary>
        /// Stores an alert for a stored message and puts it in a group: the open group of the same topic whose first
        /// alert is within the window and whose text is a near-duplicate, or a new group whose first message is queued
        /// for every channel now. Joining a group queues one summary per channel for the end of its window.
        /// With a <paramref name="shared"/> group (instances agreeing through Redis) the group is the row carrying its
        /// key; a group another instance opened gets a row here too, but its first message is that instance's to send,
        /// so this one queues only the summary.
        /// </summary>
        public void InsertAlert(FeedbackRecord r, SharedGroup? shared = null)
        {
            var severity = _alerts.SeverityOf(r.Text, r.Topic, r.Confidence);
            var fingerprint = AlertPolicy.Fingerprint(r.Text);
            (long Id, string Severity, int Count, DateTime FirstAt)? group;
            if (shared is not null && FindSharedGroup(shared.DedupKey, out var sharedRow))
            {
                group = sharedRow;
            }
            else
            {
                // A shared key whose row was resolved here already cannot be reused (unique key): group locally.
                shared = null;
                group = FindGroup(r.Topic, fingerprint, r.CreatedAt - _alerts.Window);
            }

            long groupId;
            if (group is { } found)
            {
                groupId = found.Id;
                var size = Math.Max(found.Count + 1, shared?.Count ?? 0);
                var escalated = _alerts.Escalate(AlertPolicy.Max(found.Severity, severity), size);
                Execute(
                    "UPDATE alert_groups SET count = $count, last_at = $at, severity = $severity WHERE id = $id",
                    ("$count", size), ("$at", r.CreatedAt), ("$severity", escalated), ("$id", groupId));
                _openGroups.Update(r.Topic, groupId, size, escalated);
                foreach (var channel in _alerts.ChannelsFor(escalated))
                {
                    // The summary goes where the first message went; a group that became critical also pages now.
                    var kind = channel == PagerDuty && !HasDelivery(groupId, PagerDuty) ? "initial" : "summary";
                    QueueDelivery(groupId, kind, channel, kind == "initial" ? r.CreatedAt : found.FirstAt + _alerts.Window, r.CreatedAt);
                }

                severity = escalated;
            }
            else
            {
                var openedElsewhere = shared is { First: false };
                var firstAt = openedElsewhere ? shared!.FirstAt : r.CreatedAt;
                var size = shared?.Count ?? 1;
                severity = _alerts.Escalate(severity, size);
                groupId = (long)Execute(
                    "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                    "VALUES ('feedback', $topic, $severity, $fingerprint, $first, $at, $count, 'open', $dedup, $summary) RETURNING id",
                    ("$topic", r.Topic), ("$severity", severity), ("$fingerprint", fingerprint), ("$first", firstAt), ("$at", r.CreatedAt),
                    ("$count", size), ("$dedup", shared?.DedupKey), ("$summary", Excerpt(r.Text)))!;
                _openGroups.Add(r.Topic, new OpenGroup(groupId, fingerprint, severity, size, firstAt));
                foreach (var channel in _alerts.ChannelsFor(severity))
                {
                    QueueDelivery(
                        groupId, openedElsewhere ? "summary" : "initial", channel, openedElsewhere ? firstAt + _alerts.Window : r.CreatedAt, r.CreatedAt);
                }
            }

            Execute(
                "INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity) " +
                "VALUES ($feedback_id, $sentiment, $topic, $confidence, 'open', $created_at, $group_id, $severity)",
                ("$feedback_id", r.Id), ("$sentiment", r.Sentiment), ("$topic", r.Topic), ("$confidence", r.Confidence),
                ("$created_at", r.CreatedAt), ("$group_id", groupId), ("$severity", severity));
        }

        public bool RecordAttempt(DeliveryAttempt attempt)
        {
            return Execute(
                "UPDATE alert_deliveries SET attempts = attempts + 1, state = $state, next_attempt_at = $next, last_error = $error, " +
                "delivered_at = $delivered WHERE id = $id AND state = 'pending' RETURNING 1",
                ("$state", attempt.Delivered ? "delivered" : "pending"), ("$next", attempt.NextAttemptAt), ("$error", attempt.Error),
                ("$delivered", attempt.Delivered ? (object)attempt.At : null), ("$id", attempt.DeliveryId)) is not null;
        }

        public bool ResolveGroup(GroupResolution resolution)
        {
            var resolved = Execute(
                "UPDATE alert_groups SET state = 'resolved', resolved_at = $at WHERE id = $id AND state = 'open' RETURNING id",
                ("$at", resolution.At), ("$id", resolution.GroupId)) is not null;
            if (!resolved)
            {
                return false;
            }

            Execute("UPDATE alerts SET state = 'resolved' WHERE group_id = $id AND state = 'open'", ("$id", resolution.GroupId));

            // A resolved group leaves the newest open ones, and an older one may take its place: read them again.
            _openGroups.Clear();
            if (HasDelivery(resolution.GroupId, PagerDuty))
            {
                QueueDelivery(resolution.GroupId, "resolve", PagerDuty, resolution.At, resolution.At);
            }

            return true;
        }

        public bool RaiseSpike(TopicSpike spike)
        {
            var groupId = Execute(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                "VALUES ('spike', $topic, $severity, 0, $at, $at, 1, 'open', $dedup, $summary) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                ("$topic", spike.Topic), ("$severity", spike.Severity), ("$at", spike.At), ("$dedup", spike.DedupKey), ("$summary", spike.Summary));
            if (groupId is not long id)
            {
                return false;
            }

            foreach (var channel in _alerts.ChannelsFor(spike.Severity))
            {
                QueueDelivery(id, "initial", channel, spike.At, spike.At);
            }

            return true;
        }

        private static string Excerpt(string text) => text.Length <= 300 ? text : text[..297] + "...";

        /// <summary>
        /// Forgets the open groups held in memory when another connection (the CLI's writer on the same file, an import)
        /// committed since this one last looked: SQLite's data_version changes only for other connections' commits.
        /// Called inside each group commit's transaction, which holds the write lock, so nothing can change in between.
        /// </summary>
        public void CheckOpenGroups()
        {
            if (_openGroups.IsEmpty)
            {
                return;
            }

            var version = (long)Command("PRAGMA data_version").ExecuteScalar()!;
            if (version != _openGroups.DataVersion)
            {
                _openGroups.Clear();
            }
        }

        /// <summary>
        /// The newest of the last 100 open groups of the topic (by first_at, then id) that is the same complaint and
        /// started at <paramref name="since"/> or later. Those 100 are held in memory per topic, read once from the
        /// (state, topic, first_at) index and kept up to date by this writer, instead of a query per alerting message.
        /// </summary>
        private (long Id, string Severity, int Count, DateTime FirstAt)? FindGroup(string topic, long fingerprint, DateTime since)
        {
            var groups = _openGroups.Of(topic) ?? LoadGroups(topic);
            for (var i = groups.Count - 1; i >= 0 && groups[i].FirstAt >= since; i--)
            {
                var candidate = groups[i];
                if (_alerts.SameComplaint(fingerprint, candidate.Fingerprint))
                {
                    return (candidate.Id, candidate.Severity, candidate.Count, candidate.FirstAt);
                }
            }

            return null;
        }

        private List<OpenGroup> LoadGroups(string topic)
        {
            if (_openGroups.IsEmpty)
            {
                _openGroups.DataVersion = (long)Command("PRAGMA data_version").ExecuteScalar()!;
            }

            var groups = new List<OpenGroup>(OpenGroups.PerTopic);
            using (var reader = Command(
                "SELECT id, fingerprint, severity, count, first_at FROM alert_groups " +
                $"WHERE kind = 'feedback' AND state = 'open' AND topic = $topic ORDER BY first_at DESC, id DESC LIMIT {OpenGroups.PerTopic}",
                ("$topic", topic)).ExecuteReader())
            {
                while (reader.Read())
                {
                    groups.Add(new OpenGroup(
                        reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3),
                        DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)));
                }
            }

            groups.Reverse();
            _openGroups.Set(topic, groups);
            return groups;
        }

        /// <summary>
        /// True when the shared group's key can be used here: <paramref name="group"/> is its open row, or null when
        /// it has no row yet. False when its row was resolved already (the key is taken and cannot be inserted again).
        /// </summary>
        private bool FindSharedGroup(string dedupKey, out (long Id, string Severity, int Count, DateTime FirstAt)? group)
        {
            group = null;
            using var reader = Command(
                "SELECT id, severity, count, first_at, state FROM alert_groups WHERE dedup_key = $dedup", ("$dedup", dedupKey)).ExecuteReader();
            if (!reader.Read())
            {
                return true;
            }

            if (reader.GetString(4) != "open")
            {
                return false;
            }

            group = (reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc));
            return true;
        }

        private bool HasDelivery(long groupId, string channel) =>
            Execute("SELECT 1 FROM alert_deliveries WHERE group_id = $group AND channel = $channel LIMIT 1", ("$group", groupId), ("$channel", channel)) is not null;

        /// <summary>Queues one delivery; a second of the same kind for the same group and channel is ignored (unique index).</summary>
        private void QueueDelivery(long groupId, string kind, string channel, DateTime due, DateTime now)
        {
            var added = Command(
                "INSERT INTO alert_deliveries (group_id, kind, channel, state, attempts, next_attempt_at, created_at) " +
                "VALUES ($group, $kind, $channel, 'pending', 0, $due, $now) ON CONFLICT (group_id, kind, channel) DO NOTHING",
                ("$group", groupId), ("$kind", kind), ("$channel", channel), ("$due", due), ("$now", now)).ExecuteNonQuery();

            // Only a delivery that is really new is worth waking the dispatcher for (a summary queued already is not).
            _alertsWritten |= added > 0;
        }

        private object? Execute(string sql, params (string Name, object? Value)[] parameters)
        {
            var result = Command(sql, parameters).ExecuteScalar();
            return result is DBNull ? null : result;
        }

        /// <summary>
        /// A prepared command per statement text, reused across batches with fresh parameter values. A statement text
        /// always comes with the same parameters in the same order, so they are created once and only their values set.
        /// </summary>
        private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = Connection.CreateCommand();
                command.CommandText = sql;
                foreach (var (name, _) in parameters)
                {
                    command.Parameters.Add(new SqliteParameter(name, null));
                }

                _commands[sql] = command;
            }

            command.Transaction = _transaction;
            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }

            return command;
        }


        /// <summary>An open feedback group as the writer holds it in memory.</summary>
        private sealed class OpenGroup(long id, long fingerprint, string severity, int count, DateTime firstAt)
        {
            public long Id { get; } = id;

            public long Fingerprint { get; } = fingerprint;

            public DateTime FirstAt { get; } = firstAt;

            public string Severity { get; set; } = severity;

            public int Count { get; set; } = count;
        }

        /// <summary>
        /// Per topic, the newest <see cref="PerTopic"/> open feedback groups by (first_at, id), oldest first: the only ones
        /// <see cref="FindGroup"/> may pick, since whatever the window, it looks at most at that many of the newest.
        /// A topic not read yet is read from the store on its first alert. Part of <see cref="Statements"/>, so a failed
        /// commit (which drops the connection) drops what it changed here too.
        /// </summary>
        private sealed class OpenGroups
        {
            public const int PerTopic = 100;

            private readonly Dictionary<string, List<OpenGroup>> _byTopic = new(StringComparer.Ordinal);

            public bool IsEmpty => _byTopic.Count == 0;

            /// <summary>The store's data_version when the first topic was read.</summary>
            public long DataVersion { get; set; }

            public List<OpenGroup>? Of(string topic) => _byTopic.GetValueOrDefault(topic);

            public void Set(string topic, List<OpenGroup> groups) => _byTopic[topic] = groups;

            public void Clear() => _byTopic.Clear();

            /// <summary>A new group, in (first_at, id) order; it is the newest id, so only an older first_at moves it back.</summary>
            public void Add(string topic, OpenGroup group)
            {
                if (Of(topic) is not { } groups)
                {
                    return;
                }

                var at = groups.Count;
                while (at > 0 && groups[at - 1].FirstAt > group.FirstAt)
                {
                    at--;
                }

                if (at == 0 && groups.Count == PerTopic)
                {
                    return;
                }

                groups.Insert(at, group);
                if (groups.Count > PerTopic)
                {
                    groups.RemoveAt(0);
                }
            }

            public void Update(string topic, long id, int count, string severity)
            {
                if (Of(topic)?.Find(g => g.Id == id) is { } group)
                {
                    group.Count = count;
                    group.Severity = severity;
                }
            }
        }
    }
}
