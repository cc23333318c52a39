using Feedback.Storage.Alerts;
using Npgsql;
using NpgsqlTypes;

namespace Feedback.Storage.Postgres;

internal sealed partial class PostgresWriter
{
    /// <summary>
    /// The alerts of one group commit in two batches instead of several statements per alert. With the insert, the
    /// alerted topics are locked (in name order, as <see cref="Session.LockTopicsAsync"/> does) and their open groups and
    /// shared groups read; <see cref="AlertGrouping"/> then decides every alert here, each seeing the groups the alerts
    /// before it opened or joined, and the groups, alerts and deliveries go to the server in one more batch. A group opened
    /// in that batch has no id yet: its insert keeps the id in a transaction-local setting (<c>feedback.group_N</c>) that the
    /// statements after it read, so nothing is read back. A topic's groups come from the writer's memory when its row in
    /// alert_topic_versions says nobody else changed them (<see cref="OpenGroups"/>), and are read only otherwise.
    /// </summary>
    private sealed class AlertPlan
    {
        private const string LockSql = "SELECT pg_advisory_xact_lock(hashtext('feedback.alert_groups:' || $1))";

        private const string SharedSql =
            $"SELECT id, topic, fingerprint, severity, count, first_at, state, {Session.PagedColumn} FROM alert_groups WHERE dedup_key = $1";

        /// <summary>
        /// The topic's row in alert_topic_versions and, unless it names a state held (<see cref="OpenGroups.Known"/>: $2, $3,
        /// $4), its newest open groups: one statement, so the row and the groups are read in one snapshot. Without the
        /// window's bound, as the SQLite writer reads them: the newest in the window are the newest there are, and what is
        /// held then serves the alerts of later commits whatever their time.
        /// </summary>
        private static readonly string RecentSql =
            "WITH v AS (SELECT coalesce(max(version), 0) AS version, coalesce(max(changed_by), 0) AS changed_by FROM alert_topic_versions WHERE topic = $1) " +
            "SELECT v.version, v.changed_by, g.id, g.fingerprint, g.severity, g.count, g.first_at, g.paged FROM v LEFT JOIN LATERAL (" +
            $"SELECT id, fingerprint, severity, count, first_at, {Session.PagedColumn} AS paged FROM alert_groups " +
            "WHERE kind = 'feedback' AND state = 'open' AND topic = $1 AND NOT ((v.version = $2 AND v.changed_by = $3) OR v.changed_by = ANY($4)) " +
            $"ORDER BY first_at DESC, id DESC LIMIT {AlertGrouping.RecentGroups}) g ON true ORDER BY g.first_at DESC, g.id DESC";

        /// <summary>
        /// While this commit's grouping writes, the trigger on alert_groups leaves the topics' rows to it
        /// (<see cref="BumpSql"/>); every other change of a group moves its topic's row on through the trigger.
        /// </summary>
        private const string TokenSql = "SELECT set_config('feedback.grouping_token', $1, true)";

        /// <summary>A topic's groups changed in this transaction: its row moves on and carries the commit's token.</summary>
        private const string BumpSql =
            "INSERT INTO alert_topic_versions (topic, version, changed_by) VALUES ($1, 1, $2) " +
            "ON CONFLICT (topic) DO UPDATE SET version = alert_topic_versions.version + 1, changed_by = excluded.changed_by";

        private const string GroupIdSql = "coalesce($1, current_setting('feedback.group_' || $2)::bigint)";

        private const string OpenSql =
            "WITH g AS (INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
            "VALUES ('feedback', $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id) " +
            "SELECT set_config('feedback.group_' || $1, id::text, true) FROM g";

        private const string JoinSql = $"UPDATE alert_groups SET count = $3, last_at = $4, severity = $5 WHERE id = {GroupIdSql}";

        private const string DeliverySql =
            "INSERT INTO alert_deliveries (group_id, kind, channel, state, attempts, next_attempt_at, created_at) " +
            $"VALUES ({GroupIdSql}, $3, $4, 'pending', 0, $5, $6) ON CONFLICT (group_id, kind, channel) DO NOTHING";

        private const string AlertSql =
            "INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity) " +
            $"VALUES ($3, $4, $5, $6, 'open', $7, {GroupIdSql}, $8)";

        private readonly AlertGrouping _grouping;
        private readonly OpenGroups _openGroups;
        private readonly string[] _topics;
        private readonly string[] _sharedKeys;

        // What each topic's read may find named on its row (OpenGroups.Enter), and the groups the read gave, as the row names
        // them: held already, or read now; a topic whose row names a state no longer held is read again on its own.
        private readonly Dictionary<string, OpenGroups.Known> _known = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TopicGroups> _read = new(StringComparer.Ordinal);
        private readonly List<string> _unread = [];

        // The topics whose groups this commit changes, which it leaves with its token on their rows; how many groups it opens.
        private readonly List<string> _changed = [];
        private int _openedCount;

        // The groups an alert may join, as they stand after the alerts decided so far: per topic oldest first, as many as
        // AlertGrouping.RecentGroups; and the shared groups' rows by key (absent: none; Resolved: its key is used up).
        private readonly Dictionary<string, List<OpenAlertGroup>> _recent = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (OpenAlertGroup? Row, bool Resolved)> _shared = new(StringComparer.Ordinal);

        public AlertPlan(AlertGrouping grouping, OpenGroups openGroups, List<NewFeedback> items)
        {
            _grouping = grouping;
            _openGroups = openGroups;
            var alerted = items.Where(item => item.RaiseAlert).ToList();
            _topics = [.. alerted.Select(item => item.Record.Topic).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            _sharedKeys = [.. alerted.Where(item => item.Group is not null).Select(item => item.Group!.DedupKey).Distinct(StringComparer.Ordinal)];
        }

        /// <summary>This commit's token on the rows of the topics whose groups it changes; never 0, which names no commit.</summary>
        public long Token { get; } = Random.Shared.NextInt64(1, long.MaxValue);

        /// <summary>The locks and reads, after the inserts in the same batch; the commit is in flight on its topics until <see cref="Leave"/>.</summary>
        public void AddReads(NpgsqlBatch batch)
        {
            foreach (var topic in _topics)
            {
                batch.BatchCommands.Add(Command(LockSql, new NpgsqlParameter<string> { TypedValue = topic }));
            }

            foreach (var key in _sharedKeys)
            {
                batch.BatchCommands.Add(Command(SharedSql, new NpgsqlParameter<string> { TypedValue = key }));
            }

            foreach (var topic in _topics)
            {
                var known = _openGroups.Enter(topic, Token);
                _known[topic] = known;
                batch.BatchCommands.Add(RecentCommand(topic, known));
            }
        }

        /// <summary>Reads what <see cref="AddReads"/> asked for, the reader standing at the first lock's result.</summary>
        public async Task ReadAsync(NpgsqlDataReader reader)
        {
            foreach (var _ in _topics)
            {
                await reader.NextResultAsync();
            }

            foreach (var key in _sharedKeys)
            {
                if (await reader.ReadAsync())
                {
                    _shared[key] = reader.GetString(6) != "open"
                        ? (null, true)
                        : (new OpenAlertGroup(
                            reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt32(4),
                            reader.GetDateTime(5), reader.GetBoolean(7)), false);
                }

                await reader.NextResultAsync();
            }

            foreach (var topic in _topics)
            {
                var read = await ReadGroupsAsync(reader, topic);
                if (!_known[topic].Names(read.Version, read.ChangedBy))
                {
                    _openGroups.Read(topic, read);
                    _read[topic] = read;
                }
                else if (await _openGroups.FindAsync(topic, read.Version, read.ChangedBy) is { } held)
                {
                    _read[topic] = held;
                }
                else
                {
                    _unread.Add(topic);
                }

                await reader.NextResultAsync();
            }
        }

        /// <summary>
        /// Reads, under the locks still held, the groups of a topic whose row named a state no longer held (a commit in
        /// flight beside this one ended without committing, or committed after someone else moved the row): rare, one round
        /// trip more. Then every topic's groups are ready for <see cref="Decide"/>.
        /// </summary>
        public async Task CompleteReadsAsync(NpgsqlConnection connection)
        {
            foreach (var topic in _unread)
            {
                await using var batch = new NpgsqlBatch(connection) { BatchCommands = { RecentCommand(topic, new OpenGroups.Known(-1, 0, [])) } };
                await using var reader = await batch.ExecuteReaderAsync();
                var read = await ReadGroupsAsync(reader, topic);
                _openGroups.Read(topic, read);
                _read[topic] = read;
            }

            _unread.Clear();
            foreach (var topic in _topics)
            {
                _recent[topic] = [.. _read[topic].Groups];
            }
        }

        /// <summary>The commit ended; <paramref name="committed"/>: surely committed, so the groups it leaves are held.</summary>
        public void Leave(bool committed) => _openGroups.Leave(_known.Keys, Token, committed);

        /// <summary>
        /// Decides the alerts of the stored messages in order and returns the batch that writes them; null when one of them
        /// queues a page the paging budget counts (the caller then stores them one by one).
        /// </summary>
        public NpgsqlBatch? Decide(List<NewFeedback> alerted)
        {
            var opened = new List<NpgsqlBatchCommand>();
            var joined = new Dictionary<long, AlertJoinsGroup>();
            var rest = new List<NpgsqlBatchCommand>();
            foreach (var item in alerted)
            {
                var r = item.Record;
                var at = Session.Utc(r.CreatedAt);
                StoredSharedGroup? stored = null;
                if (item.Group is { } shared)
                {
                    var row = _shared.GetValueOrDefault(shared.DedupKey);
                    stored = new StoredSharedGroup(shared, row.Row, row.Resolved);
                }

                var recent = AlertGrouping.GroupsAlone(stored) ? _recent[r.Topic] : [];
                var decision = _grouping.Decide(
                    new RaisedAlert(r.Topic, r.Text, r.Confidence, at, new AlertSubject(r.Source, r.CustomerId, r.Metadata), r.Embedding), stored, recent);
                if (decision.Deliveries.Any(d => PagingBudget.Counts(d.Kind, d.Channel)))
                {
                    return null;
                }

                long groupId;
                if (decision is AlertJoinsGroup join)
                {
                    groupId = join.Group.Id;
                    joined[groupId] = join;
                    Replace(join.Group);
                }
                else
                {
                    // A group opened here is known by its negative slot until the server gives it an id.
                    var open = (AlertOpensGroup)decision;
                    groupId = -(opened.Count + 1);
                    opened.Add(Command(
                        OpenSql, GroupId(groupId).Slot, Text(open.Topic), Text(open.Severity),
                        new NpgsqlParameter<long> { TypedValue = open.Fingerprint }, new NpgsqlParameter<DateTime> { TypedValue = Session.Utc(open.FirstAt) },
                        new NpgsqlParameter<DateTime> { TypedValue = at }, new NpgsqlParameter<int> { TypedValue = open.Count }, Text(open.DedupKey),
                        Text(open.Summary)));
                    var group = open.Stored(groupId);
                    Add(group);
                    if (open.DedupKey is not null)
                    {
                        _shared[open.DedupKey] = (group, false);
                    }
                }

                foreach (var delivery in decision.Deliveries)
                {
                    var (id, slot) = GroupId(groupId);
                    var command = Command(
                        DeliverySql, id, slot, Text(delivery.Kind), Text(delivery.Channel),
                        new NpgsqlParameter<DateTime> { TypedValue = Session.Utc(delivery.Due) }, new NpgsqlParameter<DateTime> { TypedValue = at });
                    rest.Add(command);
                }

                var (alertGroup, alertSlot) = GroupId(groupId);
                rest.Add(Command(
                    AlertSql, alertGroup, alertSlot, new NpgsqlParameter<long> { TypedValue = r.Id }, Text(r.Sentiment), Text(r.Topic),
                    new NpgsqlParameter<double> { TypedValue = r.Confidence }, new NpgsqlParameter<DateTime> { TypedValue = at }, Text(decision.Severity)));
            }

            // Each joined group is written once, as it stands after its last alert: the row ends as one update per alert would leave it.
            var batch = new NpgsqlBatch();
            batch.BatchCommands.Add(Command(TokenSql, Text(Token.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            foreach (var command in opened)
            {
                batch.BatchCommands.Add(command);
            }

            foreach (var join in joined.Values)
            {
                var (id, slot) = GroupId(join.Group.Id);
                batch.BatchCommands.Add(Command(
                    JoinSql, id, slot, new NpgsqlParameter<int> { TypedValue = join.Group.Count }, new NpgsqlParameter<DateTime> { TypedValue = Session.Utc(join.At) },
                    Text(join.Group.Severity)));
            }

            foreach (var command in rest)
            {
                batch.BatchCommands.Add(command);
            }

            // Every topic whose groups changed moves its row on, in name order. A topic read under its lock will carry this
            // commit's token, and its groups are published once the opened ones' ids are read (Opened); a topic not locked here
            // (a shared group's row of another topic) is marked changed by no writer, so whoever holds it reads it again.
            var changed = alerted.Select(item => item.Record.Topic).Concat(joined.Values.Select(join => join.Group.Topic))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var topic in changed)
            {
                var mine = _read.ContainsKey(topic);
                if (mine)
                {
                    _openGroups.Expect(topic, Token);
                    _changed.Add(topic);
                }

                batch.BatchCommands.Add(Command(BumpSql, Text(topic), new NpgsqlParameter<long> { TypedValue = mine ? Token : 0 }));
            }

            batch.BatchCommands.Add(Command(TokenSql, Text("")));
            _openedCount = opened.Count;
            return batch;
        }

        /// <summary>
        /// Whether the <paramref name="index"/>th statement of the batch of <see cref="Decide"/> opens a group, answering with
        /// its id: those come right after the one that sets the token.
        /// </summary>
        public bool OpensGroupAt(int index) => index >= 1 && index <= _openedCount;

        /// <summary>
        /// The ids of the groups the batch opened, in its order: the groups this commit leaves, as they will be once it
        /// committed, are published with them in place of the slots.
        /// </summary>
        public void Opened(IReadOnlyList<long> ids)
        {
            foreach (var topic in _changed)
            {
                var groups = _recent[topic].ConvertAll(group => group.Id > 0 ? group : group with { Id = ids[(int)(-group.Id) - 1] });
                _openGroups.Publish(topic, Token, new TopicGroups(_read[topic].Version + 1, Token, groups));
            }
        }

        /// <summary>Whether a batch of <see cref="Decide"/>, executed, queued a delivery that did not exist before.</summary>
        public static bool DeliveriesAdded(NpgsqlBatch batch)
        {
            foreach (var command in batch.BatchCommands)
            {
                if (command.CommandText == DeliverySql && command.RecordsAffected > 0)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A group's id parameters for <c>GroupIdSql</c>: the id of a stored group, or the slot of one opened in this batch.</summary>
        private static (NpgsqlParameter Id, NpgsqlParameter Slot) GroupId(long id) => id > 0
            ? (new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = id }, new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = DBNull.Value })
            : (new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = DBNull.Value }, new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (-id).ToString(System.Globalization.CultureInfo.InvariantCulture) });

        /// <summary>A new group, in (first alert, id) order; it is the newest id, so only an older first alert moves it back.</summary>
        private void Add(OpenAlertGroup group) => AlertGrouping.InsertRecent(_recent[group.Topic], group, out _);

        /// <summary>A joined group as it now stands, in place of the copies held of it.</summary>
        private void Replace(OpenAlertGroup group)
        {
            if (_recent.TryGetValue(group.Topic, out var groups))
            {
                var index = groups.FindIndex(g => g.Id == group.Id);
                if (index >= 0)
                {
                    groups[index] = group;
                }
            }

            foreach (var (key, row) in _shared)
            {
                if (row.Row?.Id == group.Id)
                {
                    _shared[key] = (group, false);
                }
            }
        }

        private static NpgsqlBatchCommand RecentCommand(string topic, OpenGroups.Known known) => Command(
            RecentSql, new NpgsqlParameter<string> { TypedValue = topic }, new NpgsqlParameter<long> { TypedValue = known.Version },
            new NpgsqlParameter<long> { TypedValue = known.ChangedBy }, new NpgsqlParameter<long[]> { TypedValue = known.InFlight });

        /// <summary>One topic's <see cref="RecentSql"/>: its row, and its groups when the server sent them (none: one row of nulls).</summary>
        private static async Task<TopicGroups> ReadGroupsAsync(NpgsqlDataReader reader, string topic)
        {
            long version = 0, changedBy = 0;
            var groups = new List<OpenAlertGroup>();
            while (await reader.ReadAsync())
            {
                version = reader.GetInt64(0);
                changedBy = reader.GetInt64(1);
                if (!reader.IsDBNull(2))
                {
                    groups.Add(new OpenAlertGroup(
                        reader.GetInt64(2), topic, reader.GetInt64(3), reader.GetString(4), reader.GetInt32(5), reader.GetDateTime(6), reader.GetBoolean(7)));
                }
            }

            groups.Reverse();
            return new TopicGroups(version, changedBy, groups);
        }

        private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.AddRange(parameters);
            return command;
        }
    }
}
