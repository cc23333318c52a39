using Feedback.Storage.Alerts;
using Microsoft.Data.Sqlite;

namespace Feedback.Storage;

internal sealed partial class FeedbackWriter
{
    /// <summary>The alert half of the writer's statements: grouping, the outbox, resolutions and spikes.</summary>
    private sealed partial class Statements
    {
        /// <summary>
        /// Whether a group has a PagerDuty delivery. Only a critical group can have one (PagerDuty is queued for critical
        /// groups only, and a group's severity never falls), so the others are spared the lookup.
        /// </summary>
        private const string PagedColumn =
            "CASE WHEN severity = 'critical' THEN EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.group_id = alert_groups.id " +
            $"AND d.channel = '{AlertGrouping.PagerDuty}') ELSE 0 END";

        private readonly AlertGrouping _grouping;
        private readonly OpenGroups _openGroups = new();

        // A group joined by several alerts of one commit is written once, before the commit (or before anything reads
        // the groups table): the row ends as it would after one update per alert, for one update.
        private readonly Dictionary<long, AlertJoinsGroup> _joinedGroups = [];
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
        private RawStatement _retryFailed = null!;
        private RawStatement _resolveGroup = null!;
        private RawStatement _resolveAlerts = null!;
        private RawStatement _raiseSpike = null!;
        private RawStatement _pagesInPeriod = null!;
        private RawStatement _findBudgetSummary = null!;
        private RawStatement _joinBudgetSummary = null!;
        private RawStatement _openBudgetSummary = null!;

        /// <summary>True once after a commit that queued deliveries, so the dispatcher can be woken.</summary>
        public bool TakeAlertsWritten()
        {
            var written = _alertsWritten;
            _alertsWritten = false;
            return written;
        }

        /// <summary>
        /// Stores an alert for a stored message where <see cref="AlertGrouping"/> puts it, with the deliveries it names.
        /// The groups it may join are the topic's open ones held in memory (read on the topic's first alert), or, with a
        /// <paramref name="shared"/> group (instances agreeing through Redis), the row carrying its key.
        /// </summary>
        public void InsertAlert(FeedbackRecord r, SharedGroup? shared = null)
        {
            var stored = shared is null ? null : FindSharedGroup(shared);
            var recent = AlertGrouping.GroupsAlone(stored) ? _openGroups.Of(r.Topic) ?? LoadGroups(r.Topic) : [];
            var decision = _grouping.Decide(new RaisedAlert(r.Topic, r.Text, r.Confidence, r.CreatedAt, new AlertSubject(r.Source, r.CustomerId, r.Metadata), r.Embedding), stored, recent);
            long groupId;
            if (decision is AlertJoinsGroup join)
            {
                groupId = join.Group.Id;
                _openGroups.Replace(join.Group);
                _joinedGroups[groupId] = join;
            }
            else
            {
                var open = (AlertOpensGroup)decision;
                groupId = _insertGroup
                    .Bind(1, open.Topic).Bind(2, open.Severity).Bind(3, open.Fingerprint).Bind(4, open.FirstAt).Bind(5, open.At)
                    .Bind(6, open.Count).Bind(7, open.DedupKey).Bind(8, open.Summary)
                    .Insert();
                _openGroups.Add(open.Stored(groupId));
            }

            foreach (var delivery in decision.Deliveries)
            {
                QueueDelivery(groupId, delivery.Kind, delivery.Channel, delivery.Due, r.CreatedAt);
            }

            _insertAlert
                .Bind(1, r.Id).Bind(2, r.Sentiment).Bind(3, r.Topic).Bind(4, r.Confidence).Bind(5, r.CreatedAt).Bind(6, groupId)
                .Bind(7, decision.Severity)
                .Execute();
        }

        /// <summary>Writes the groups joined since the last write: their count, last alert and severity.</summary>
        private void WriteJoinedGroups()
        {
            foreach (var join in _joinedGroups.Values)
            {
                _updateGroup.Bind(1, join.Group.Count).Bind(2, join.At).Bind(3, join.Group.Severity).Bind(4, join.Group.Id).Execute();
            }

            _joinedGroups.Clear();
        }

        public bool RecordAttempt(DeliveryAttempt attempt)
        {
            return _recordAttempt
                .Bind(1, attempt.State).Bind(2, attempt.NextAttemptAt).Bind(3, attempt.Error)
                .Bind(4, attempt.Delivered ? attempt.At : null).Bind(5, attempt.DeliveryId)
                .ScalarInt64() is not null;
        }

        public int RetryFailedDeliveries(DeliveryRetry retry) =>
            _retryFailed.Bind(1, retry.At).Bind(2, retry.GroupId).Execute();

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
            var paged = _hasDelivery.Bind(1, resolution.GroupId).Bind(2, AlertGrouping.PagerDuty).ScalarInt64() is not null;
            if (AlertGrouping.ResolutionDelivery(paged, resolution.At) is { } delivery)
            {
                QueueDelivery(resolution.GroupId, delivery.Kind, delivery.Channel, delivery.Due, resolution.At);
            }

            return true;
        }

        public bool RaiseSpike(TopicSpike spike)
        {
            var groupId = _raiseSpike
                .Bind(1, spike.Topic).Bind(2, spike.Severity).Bind(3, spike.At).Bind(4, spike.DedupKey).Bind(5, spike.Summary).Bind(6, spike.Kind)
                .ScalarInt64();
            if (groupId is not long id)
            {
                return false;
            }

            foreach (var delivery in _grouping.SpikeDeliveries(spike.Severity, spike.At))
            {
                QueueDelivery(id, delivery.Kind, delivery.Channel, delivery.Due, spike.At);
            }

            return true;
        }

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
                "VALUES (?1, ?2, ?3, ?6, 0, ?4, ?5) ON CONFLICT (group_id, kind, channel) DO NOTHING");

            // A held page was never sent, so there is no incident to resolve.
            _hasDelivery = Raw($"SELECT 1 FROM alert_deliveries WHERE group_id = ?1 AND channel = ?2 AND state <> '{PagingBudget.Held}' LIMIT 1");
            _pagesInPeriod = Raw(
                $"SELECT count(*) FROM alert_deliveries WHERE channel = '{AlertGrouping.PagerDuty}' AND kind = 'initial' " +
                $"AND state <> '{PagingBudget.Held}' AND created_at > ?1");
            _findBudgetSummary = Raw(
                $"SELECT id FROM alert_groups WHERE kind = '{PagingBudget.SummaryKind}' AND state = 'open' AND first_at > ?1 ORDER BY id DESC LIMIT 1");
            _joinBudgetSummary = Raw("UPDATE alert_groups SET count = count + 1, last_at = ?1 WHERE id = ?2");
            _openBudgetSummary = Raw(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                $"VALUES ('{PagingBudget.SummaryKind}', '{PagingBudget.SummaryTopic}', 'critical', 0, ?1, ?1, 1, 'open', NULL, ?2)");
            _dataVersion = Raw("PRAGMA data_version");
            _findSharedGroup = Raw(
                $"SELECT id, topic, fingerprint, severity, count, first_at, state, {PagedColumn} FROM alert_groups WHERE dedup_key = ?1");
            _loadGroups = Raw(
                $"SELECT id, fingerprint, severity, count, first_at, {PagedColumn} FROM alert_groups " +
                "WHERE kind = 'feedback' AND state = 'open' AND topic = ?1 " +
                $"ORDER BY first_at DESC, id DESC LIMIT {AlertGrouping.RecentGroups}");
            _recordAttempt = Raw(
                "UPDATE alert_deliveries SET attempts = attempts + 1, state = ?1, next_attempt_at = ?2, last_error = ?3, " +
                "delivered_at = ?4 WHERE id = ?5 AND state = 'pending' RETURNING 1");
            // A fresh count of attempts, so ALERT_MAX_ATTEMPTS allows as many again; last_error stays until the next attempt.
            _retryFailed = Raw(
                "UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?1 WHERE group_id = ?2 AND state = 'failed'");
            _resolveGroup = Raw("UPDATE alert_groups SET state = 'resolved', resolved_at = ?1 WHERE id = ?2 AND state = 'open' RETURNING id");
            _resolveAlerts = Raw("UPDATE alerts SET state = 'resolved' WHERE group_id = ?1 AND state = 'open'");
            _raiseSpike = Raw(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                "VALUES (?6, ?1, ?2, 0, ?3, ?3, 1, 'open', ?4, ?5) ON CONFLICT (dedup_key) DO NOTHING RETURNING id");
        }

        /// <summary>
        /// The topic's newest open groups, as many as <see cref="AlertGrouping.RecentGroups"/>, read once from the (state,
        /// topic, first_at) index and then held and kept up to date by this writer, instead of a query per alerting message.
        /// </summary>
        private List<OpenAlertGroup> LoadGroups(string topic)
        {
            if (_openGroups.IsEmpty)
            {
                _openGroups.DataVersion = _dataVersion.ScalarInt64()!.Value;
            }

            WriteJoinedGroups();
            var groups = new List<OpenAlertGroup>(AlertGrouping.RecentGroups);
            try
            {
                _loadGroups.Bind(1, topic);
                while (_loadGroups.Step())
                {
                    groups.Add(new OpenAlertGroup(
                        _loadGroups.Int64(0), topic, _loadGroups.Int64(1), _loadGroups.Text(2), (int)_loadGroups.Int64(3),
                        _loadGroups.DateTime(4), _loadGroups.Int64(5) != 0));
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
        /// The shared group's row here: open, resolved already (its key is taken and cannot be inserted again), or none
        /// yet. Read afresh, after the joins held back are written, since it need not be among the groups held.
        /// </summary>
        private StoredSharedGroup FindSharedGroup(SharedGroup shared)
        {
            WriteJoinedGroups();
            try
            {
                if (!_findSharedGroup.Bind(1, shared.DedupKey).Step())
                {
                    return new StoredSharedGroup(shared, null, Resolved: false);
                }

                if (_findSharedGroup.Text(6) != "open")
                {
                    return new StoredSharedGroup(shared, null, Resolved: true);
                }

                var row = new OpenAlertGroup(
                    _findSharedGroup.Int64(0), _findSharedGroup.Text(1), _findSharedGroup.Int64(2), _findSharedGroup.Text(3),
                    (int)_findSharedGroup.Int64(4), _findSharedGroup.DateTime(5), _findSharedGroup.Int64(7) != 0);
                return new StoredSharedGroup(shared, row, Resolved: false);
            }
            finally
            {
                _findSharedGroup.Reset();
            }
        }

        /// <summary>
        /// Queues one delivery; a second of the same kind for the same group and channel is ignored (unique index).
        /// The deliveries of the groups held in memory are remembered, so the summary every later alert of a group would
        /// queue again costs no statement: rows of the outbox are never deleted, so one known to exist stays.
        /// </summary>
        private void QueueDelivery(long groupId, string kind, string channel, DateTime due, DateTime now)
        {
            if (_openGroups.HasQueued(groupId, kind, channel))
            {
                return;
            }

            var state = PagingBudget.Counts(kind, channel) && !_grouping.Budget.Allows(_pagesInPeriod.Bind(1, PagingBudget.CountedSince(now)).ScalarInt64() ?? 0)
                ? PagingBudget.Held
                : "pending";
            var added = _queueDelivery.Bind(1, groupId).Bind(2, kind).Bind(3, channel).Bind(4, due).Bind(5, now).Bind(6, state).Execute();
            _openGroups.Queued(groupId, kind, channel);
            if (added > 0 && state == PagingBudget.Held)
            {
                HoldPage(now);
            }

            // Only a delivery that is really new is worth waking the dispatcher for (a summary queued already is not).
            _alertsWritten |= added > 0;
        }

        /// <summary>
        /// Counts a page the budget held in the open summary group of the last hour, or opens one with its own page: the
        /// writer holds SQLite's write lock, so the count it read cannot change before this commit.
        /// </summary>
        private void HoldPage(DateTime now)
        {
            if (_findBudgetSummary.Bind(1, PagingBudget.CountedSince(now)).ScalarInt64() is long summaryId)
            {
                _joinBudgetSummary.Bind(1, now).Bind(2, summaryId).Execute();
                return;
            }

            var id = _openBudgetSummary.Bind(1, now).Bind(2, PagingBudget.Summary).Insert();
            var page = PagingBudget.SummaryPage(now);
            _queueDelivery.Bind(1, id).Bind(2, page.Kind).Bind(3, page.Channel).Bind(4, page.Due).Bind(5, now).Bind(6, "pending").Execute();
            _alertsWritten = true;
        }

        /// <summary>
        /// Per topic, the newest <see cref="AlertGrouping.RecentGroups"/> open feedback groups by (first_at, id), oldest
        /// first: the only ones an alert may join, whatever the window. A topic not read yet is read from the store on its
        /// first alert. Part of <see cref="Statements"/>, so a failed commit (which drops the connection) drops what it
        /// changed here too.
        /// </summary>
        private sealed class OpenGroups
        {
            private readonly Dictionary<string, List<OpenAlertGroup>> _byTopic = new(StringComparer.Ordinal);

            // Every group held has an entry: the deliveries it is known to have (null until one is known).
            private readonly Dictionary<long, List<(string Kind, string Channel)>?> _deliveries = [];

            public bool IsEmpty => _byTopic.Count == 0;

            /// <summary>The store's data_version when the first topic was read.</summary>
            public long DataVersion { get; set; }

            public List<OpenAlertGroup>? Of(string topic) => _byTopic.GetValueOrDefault(topic);

            public void Set(string topic, List<OpenAlertGroup> groups)
            {
                _byTopic[topic] = groups;
                foreach (var group in groups)
                {
                    _deliveries[group.Id] = null;
                }
            }

            public void Clear()
            {
                _byTopic.Clear();
                _deliveries.Clear();
            }

            /// <summary>A new group, in (first_at, id) order; it is the newest id, so only an older first_at moves it back.</summary>
            public void Add(OpenAlertGroup group)
            {
                if (Of(group.Topic) is not { } groups)
                {
                    return;
                }

                var oldest = AlertGrouping.InsertRecent(groups, group, out var inserted);
                if (inserted)
                {
                    _deliveries[group.Id] = null;
                }

                if (oldest is not null)
                {
                    _deliveries.Remove(oldest.Id);
                }
            }

            /// <summary>A joined group as it now stands, in place of the copy held of it, if any.</summary>
            public void Replace(OpenAlertGroup group)
            {
                if (!_deliveries.ContainsKey(group.Id) || Of(group.Topic) is not { } groups)
                {
                    return;
                }

                var at = groups.FindLastIndex(held => held.Id == group.Id);
                if (at >= 0)
                {
                    groups[at] = group;
                }
            }

            /// <summary>Whether a group held is known to have a delivery of that kind on that channel.</summary>
            public bool HasQueued(long groupId, string kind, string channel) =>
                _deliveries.GetValueOrDefault(groupId)?.Contains((kind, channel)) == true;

            /// <summary>Remembers a delivery of a group held; one of a group not held is not worth remembering.</summary>
            public void Queued(long groupId, string kind, string channel)
            {
                if (_deliveries.TryGetValue(groupId, out var known))
                {
                    (known ?? (_deliveries[groupId] = [])).Add((kind, channel));
                }
            }
        }
    }
}
