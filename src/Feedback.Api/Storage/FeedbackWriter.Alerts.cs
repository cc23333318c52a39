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
        return await pending.Task;
    }

    /// <summary>The alert half of the writer's statements: grouping, the outbox, resolutions and spikes.</summary>
    private sealed partial class Statements
    {
        private const string PagerDuty = "pagerduty";

        private readonly AlertPolicy _alerts;
        private readonly OpenGroups _openGroups = new();

        // A group joined by several alerts of one commit is written once, before the commit (or before anything reads
        // the groups table): the row ends as it would after one update per alert, for one update.
        private readonly Dictionary<long, OpenGroup> _joinedGroups = [];
        private bool _alertsWritten;

        private RawStatement _insertAlert = null!;
        private RawStatement _insertGroup = null!;
        private RawStatement _updateGroup = null!;
        private RawStatement _queueDelivery = null!;
        private RawStatement _hasDelivery = null!;
        private RawStatement _dataVersion = null!;
        private RawStatement _findSharedGroup = null!;
        private RawStatement _loadGroups = null!;
        private RawStatement _recordAttempt = null!;
        private RawStatement _resolveGroup = null!;
        private RawStatement _resolveAlerts = null!;
        private RawStatement _raiseSpike = null!;

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
            OpenGroup? group;
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
            if (group is not null)
            {
                groupId = group.Id;
                var size = Math.Max(group.Count + 1, shared?.Count ?? 0);
                var escalated = _alerts.Escalate(AlertPolicy.Max(group.Severity, severity), size);
                group.Join(size, escalated, r.CreatedAt);
                if (shared is not null)
                {
                    // The shared group's row was read afresh: the copy held for its topic, if any, follows it.
                    _openGroups.Of(r.Topic)?.Find(g => g.Id == groupId)?.Join(size, escalated, r.CreatedAt);
                }

                _joinedGroups[groupId] = group;
                foreach (var channel in _alerts.ChannelsFor(escalated))
                {
                    // The summary goes where the first message went; a group that became critical also pages now.
                    var kind = channel == PagerDuty && !HasDelivery(group, PagerDuty) ? "initial" : "summary";
                    QueueDelivery(group, kind, channel, kind == "initial" ? r.CreatedAt : group.FirstAt + _alerts.Window, r.CreatedAt);
                }

                severity = escalated;
            }
            else
            {
                var openedElsewhere = shared is { First: false };
                var firstAt = openedElsewhere ? shared!.FirstAt : r.CreatedAt;
                var size = shared?.Count ?? 1;
                severity = _alerts.Escalate(severity, size);
                groupId = _insertGroup
                    .Bind(1, r.Topic).Bind(2, severity).Bind(3, fingerprint).Bind(4, firstAt).Bind(5, r.CreatedAt)
                    .Bind(6, size).Bind(7, shared?.DedupKey).Bind(8, Excerpt(r.Text))
                    .Insert();
                var opened = new OpenGroup(groupId, fingerprint, severity, size, firstAt);
                _openGroups.Add(r.Topic, opened);
                foreach (var channel in _alerts.ChannelsFor(severity))
                {
                    QueueDelivery(
                        opened, openedElsewhere ? "summary" : "initial", channel, openedElsewhere ? firstAt + _alerts.Window : r.CreatedAt, r.CreatedAt);
                }
            }

            _insertAlert
                .Bind(1, r.Id).Bind(2, r.Sentiment).Bind(3, r.Topic).Bind(4, r.Confidence).Bind(5, r.CreatedAt).Bind(6, groupId).Bind(7, severity)
                .Execute();
        }

        /// <summary>Writes the groups joined since the last write: their count, last alert and severity.</summary>
        private void WriteJoinedGroups()
        {
            foreach (var group in _joinedGroups.Values)
            {
                _updateGroup.Bind(1, group.Count).Bind(2, group.LastAt).Bind(3, group.Severity).Bind(4, group.Id).Execute();
            }

            _joinedGroups.Clear();
        }

        public bool RecordAttempt(DeliveryAttempt attempt)
        {
            return _recordAttempt
                .Bind(1, attempt.Delivered ? "delivered" : "pending").Bind(2, attempt.NextAttemptAt).Bind(3, attempt.Error)
                .Bind(4, attempt.Delivered ? attempt.At : null).Bind(5, attempt.DeliveryId)
                .ScalarInt64() is not null;
        }

        public bool ResolveGroup(GroupResolution resolution)
        {
            var resolved = _resolveGroup.Bind(1, resolution.At).Bind(2, resolution.GroupId).ScalarInt64() is not null;
            if (!resolved)
            {
                return false;
            }

            _resolveAlerts.Bind(1, resolution.GroupId).Execute();

            // A resolved group leaves the newest open ones, and an older one may take its place: read them again.
            _openGroups.Clear();
            if (HasDelivery(null, resolution.GroupId, PagerDuty))
            {
                QueueDelivery(null, resolution.GroupId, "resolve", PagerDuty, resolution.At, resolution.At);
            }

            return true;
        }

        public bool RaiseSpike(TopicSpike spike)
        {
            var groupId = _raiseSpike
                .Bind(1, spike.Topic).Bind(2, spike.Severity).Bind(3, spike.At).Bind(4, spike.DedupKey).Bind(5, spike.Summary)
                .ScalarInt64();
            if (groupId is not long id)
            {
                return false;
            }

            foreach (var channel in _alerts.ChannelsFor(spike.Severity))
            {
                QueueDelivery(null, id, "initial", channel, spike.At, spike.At);
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

            if (_dataVersion.ScalarInt64() != _openGroups.DataVersion)
            {
                _openGroups.Clear();
            }
        }

        private void PrepareAlertStatements()
        {
            _insertAlert = Raw(
                "INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity) " +
                "VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7)");
            _insertGroup = Raw(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                "VALUES ('feedback', ?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8)");
            _updateGroup = Raw("UPDATE alert_groups SET count = ?1, last_at = ?2, severity = ?3 WHERE id = ?4");
            _queueDelivery = Raw(
                "INSERT INTO alert_deliveries (group_id, kind, channel, state, attempts, next_attempt_at, created_at) " +
                "VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?5) ON CONFLICT (group_id, kind, channel) DO NOTHING");
            _hasDelivery = Raw("SELECT 1 FROM alert_deliveries WHERE group_id = ?1 AND channel = ?2 LIMIT 1");
            _dataVersion = Raw("PRAGMA data_version");
            _findSharedGroup = Raw("SELECT id, fingerprint, severity, count, first_at, state FROM alert_groups WHERE dedup_key = ?1");
            _loadGroups = Raw(
                "SELECT id, fingerprint, severity, count, first_at FROM alert_groups " +
                $"WHERE kind = 'feedback' AND state = 'open' AND topic = ?1 ORDER BY first_at DESC, id DESC LIMIT {OpenGroups.PerTopic}");
            _recordAttempt = Raw(
                "UPDATE alert_deliveries SET attempts = attempts + 1, state = ?1, next_attempt_at = ?2, last_error = ?3, " +
                "delivered_at = ?4 WHERE id = ?5 AND state = 'pending' RETURNING 1");
            _resolveGroup = Raw("UPDATE alert_groups SET state = 'resolved', resolved_at = ?1 WHERE id = ?2 AND state = 'open' RETURNING id");
            _resolveAlerts = Raw("UPDATE alerts SET state = 'resolved' WHERE group_id = ?1 AND state = 'open'");
            _raiseSpike = Raw(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                "VALUES ('spike', ?1, ?2, 0, ?3, ?3, 1, 'open', ?4, ?5) ON CONFLICT (dedup_key) DO NOTHING RETURNING id");
        }

        /// <summary>
        /// The newest of the last 100 open groups of the topic (by first_at, then id) that is the same complaint and
        /// started at <paramref name="since"/> or later. Those 100 are held in memory per topic, read once from the
        /// (state, topic, first_at) index and kept up to date by this writer, instead of a query per alerting message.
        /// </summary>
        private OpenGroup? FindGroup(string topic, long fingerprint, DateTime since)
        {
            var groups = _openGroups.Of(topic) ?? LoadGroups(topic);
            for (var i = groups.Count - 1; i >= 0 && groups[i].FirstAt >= since; i--)
            {
                var candidate = groups[i];
                if (_alerts.SameComplaint(fingerprint, candidate.Fingerprint))
                {
                    return candidate;
                }
            }

            return null;
        }

        private List<OpenGroup> LoadGroups(string topic)
        {
            if (_openGroups.IsEmpty)
            {
                _openGroups.DataVersion = _dataVersion.ScalarInt64()!.Value;
            }

            WriteJoinedGroups();
            var groups = new List<OpenGroup>(OpenGroups.PerTopic);
            try
            {
                _loadGroups.Bind(1, topic);
                while (_loadGroups.Step())
                {
                    groups.Add(new OpenGroup(
                        _loadGroups.Int64(0), _loadGroups.Int64(1), _loadGroups.Text(2), (int)_loadGroups.Int64(3), _loadGroups.DateTime(4)));
                }
            }
            finally
            {
                _loadGroups.Reset();
            }

            groups.Reverse();
            _openGroups.Set(topic, groups);
            return groups;
        }

        /// <summary>
        /// True when the shared group's key can be used here: <paramref name="group"/> is its open row, or null when
        /// it has no row yet. False when its row was resolved already (the key is taken and cannot be inserted again).
        /// The group read here is not the one held in memory for its topic: it is written back by id all the same.
        /// </summary>
        private bool FindSharedGroup(string dedupKey, out OpenGroup? group)
        {
            group = null;
            WriteJoinedGroups();
            try
            {
                if (!_findSharedGroup.Bind(1, dedupKey).Step())
                {
                    return true;
                }

                if (_findSharedGroup.Text(5) != "open")
                {
                    return false;
                }

                group = new OpenGroup(
                    _findSharedGroup.Int64(0), _findSharedGroup.Int64(1), _findSharedGroup.Text(2), (int)_findSharedGroup.Int64(3),
                    _findSharedGroup.DateTime(4));
                return true;
            }
            finally
            {
                _findSharedGroup.Reset();
            }
        }

        private bool HasDelivery(OpenGroup group, string channel) => HasDelivery(group, group.Id, channel);

        /// <summary>Whether the group has a delivery on the channel; a group held in memory remembers the ones it knows of.</summary>
        private bool HasDelivery(OpenGroup? group, long groupId, string channel)
        {
            if (group?.HasQueued(channel) == true)
            {
                return true;
            }

            return _hasDelivery.Bind(1, groupId).Bind(2, channel).ScalarInt64() is not null;
        }

        private void QueueDelivery(OpenGroup group, string kind, string channel, DateTime due, DateTime now) =>
            QueueDelivery(group, group.Id, kind, channel, due, now);

        /// <summary>
        /// Queues one delivery; a second of the same kind for the same group and channel is ignored (unique index).
        /// A group held in memory remembers the deliveries it has, so the summary every later alert of a group would
        /// queue again costs no statement: rows of the outbox are never deleted, so one known to exist stays.
        /// </summary>
        private void QueueDelivery(OpenGroup? group, long groupId, string kind, string channel, DateTime due, DateTime now)
        {
            if (group?.HasQueued(kind, channel) == true)
            {
                return;
            }

            var added = _queueDelivery.Bind(1, groupId).Bind(2, kind).Bind(3, channel).Bind(4, due).Bind(5, now).Execute();
            group?.Queued(kind, channel);

            // Only a delivery that is really new is worth waking the dispatcher for (a summary queued already is not).
            _alertsWritten |= added > 0;
        }

        /// <summary>An open feedback group as the writer holds it in memory.</summary>
        private sealed class OpenGroup(long id, long fingerprint, string severity, int count, DateTime firstAt)
        {
            private List<(string Kind, string Channel)>? _deliveries;

            public long Id { get; } = id;

            public long Fingerprint { get; } = fingerprint;

            public DateTime FirstAt { get; } = firstAt;

            public string Severity { get; private set; } = severity;

            public int Count { get; private set; } = count;

            /// <summary>When its newest alert was raised; written to the row only after a join has set it.</summary>
            public DateTime LastAt { get; private set; } = firstAt;

            public void Join(int count, string severity, DateTime at)
            {
                Count = count;
                Severity = severity;
                LastAt = at;
            }

            /// <summary>Whether the group is known to have a delivery of that kind on that channel.</summary>
            public bool HasQueued(string kind, string channel) =>
                _deliveries?.Contains((kind, channel)) == true;

            /// <summary>Whether the group is known to have any delivery on that channel.</summary>
            public bool HasQueued(string channel) =>
                _deliveries?.Exists(d => d.Channel == channel) == true;

            public void Queued(string kind, string channel) => (_deliveries ??= []).Add((kind, channel));
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
        }
    }
}
