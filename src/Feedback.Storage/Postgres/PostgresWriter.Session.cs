using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;
using Npgsql;

namespace Feedback.Storage.Postgres;

internal sealed partial class PostgresWriter
{
    /// <summary>
    /// The statements of one group commit, on its connection, and in its transaction when it has one (without, a batch
    /// is an implicit transaction of its own).
    /// </summary>
    private sealed class Session(NpgsqlConnection connection, AlertGrouping grouping, LlmBudgetAlerts budget)
    {
        private const string UpsertUsageSql =
            "INSERT INTO llm_usage (hour, calls, input_tokens, output_tokens) VALUES ($1, $2, $3, $4) ON CONFLICT (hour) DO UPDATE SET " +
            "calls = llm_usage.calls + excluded.calls, input_tokens = llm_usage.input_tokens + excluded.input_tokens, " +
            "output_tokens = llm_usage.output_tokens + excluded.output_tokens";

        /// <summary>
        /// Whether a group has a PagerDuty delivery. Only a critical group can have one (PagerDuty is queued for critical
        /// groups only, and a group's severity never falls), so the others are spared the lookup.
        /// </summary>
        public const string PagedColumn =
            "CASE WHEN severity = 'critical' THEN EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.group_id = alert_groups.id " +
            $"AND d.channel = '{AlertGrouping.PagerDuty}') ELSE false END";

        // The commit's LLM usage by hour, written once at its end (WriteUsageAsync): one upsert an hour.
        private readonly Dictionary<DateTime, LlmUsage> _usage = [];
        private DateTime _lastSpentAt;

        public NpgsqlConnection Connection { get; } = connection;

        public NpgsqlTransaction? Transaction { get; set; }

        /// <summary>What this commit changes in feedback_rollups, written once at its end.</summary>
        public RollupDeltas Rollups { get; } = new();

        /// <summary>True when this transaction queued a delivery that did not exist before, worth waking the dispatcher for.</summary>
        public bool AlertsQueued { get; private set; }

        /// <summary>Whether this commit counted LLM calls, which <see cref="WriteUsageAsync"/> or <see cref="AddUsage"/> writes.</summary>
        public bool HasUsage => _usage.Count > 0;

        /// <summary>Deliveries that a batch of this transaction queued (<see cref="AlertPlan"/>).</summary>
        public void QueuedDeliveries(bool added) => AlertsQueued |= added;

        /// <summary>
        /// The commit's usage as upserts at the end of <paramref name="batch"/>, for a commit without budget alerts: those
        /// need the month's total read back (<see cref="WriteUsageAsync"/>).
        /// </summary>
        public void AddUsage(NpgsqlBatch batch)
        {
            foreach (var (hour, usage) in _usage.OrderBy(u => u.Key))
            {
                var command = new NpgsqlBatchCommand(UpsertUsageSql);
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = Utc(hour) });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = usage.Calls });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = usage.InputTokens });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = usage.OutputTokens });
                batch.BatchCommands.Add(command);
            }

            _usage.Clear();
        }

        public static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

        public async Task<Dictionary<string, FeedbackRecord>> FindByIdempotencyKeysAsync(string[] keys)
        {
            await using var command = Command(
                $"SELECT id, {FeedbackColumns} FROM feedback WHERE idempotency_key = ANY(@keys)", ("keys", keys));
            await using var reader = await command.ExecuteReaderAsync();
            var found = new Dictionary<string, FeedbackRecord>(StringComparer.Ordinal);
            while (await reader.ReadAsync())
            {
                var record = FeedbackRowBinding.Read(reader);
                found[record.IdempotencyKey!] = record;
            }

            return found;
        }

        /// <summary>
        /// Grouping reads the open groups of a topic and then joins or creates one; two instances doing that at once
        /// would each create a group for the same complaint. A transaction-scoped advisory lock per topic makes them
        /// take turns, and taking the locks in name order keeps two transactions from waiting on each other.
        /// </summary>
        public async Task LockTopicsAsync(IEnumerable<string> topics)
        {
            foreach (var topic in topics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                await ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('feedback.alert_groups:' || @topic))", ("topic", topic));
            }
        }

        /// <summary>
        /// Stores an alert for a stored message where <see cref="AlertGrouping"/> puts it, with the deliveries it names, as
        /// <see cref="FeedbackWriter"/> does. The groups it may join are read under the topic's lock
        /// (<see cref="LockTopicsAsync"/>): the topic's newest open ones, or, with a <paramref name="shared"/> group
        /// (instances agreeing through Redis), the row carrying its key.
        /// </summary>
        public async Task InsertAlertAsync(FeedbackRecord r, SharedGroup? shared = null)
        {
            var at = Utc(r.CreatedAt);
            var stored = shared is null ? null : await FindSharedGroupAsync(shared);
            var recent = AlertGrouping.GroupsAlone(stored) ? await RecentGroupsAsync(r.Topic, grouping.JoinableSince(at)) : [];
            var decision = grouping.Decide(new RaisedAlert(r.Topic, r.Text, r.Confidence, at, new AlertSubject(r.Source, r.CustomerId, r.Metadata), r.Embedding), stored, recent);
            long groupId;
            if (decision is AlertJoinsGroup join)
            {
                groupId = join.Group.Id;
                await ExecuteAsync(
                    "UPDATE alert_groups SET count = @count, last_at = @at, severity = @severity WHERE id = @id",
                    ("count", join.Group.Count), ("at", at), ("severity", join.Group.Severity), ("id", groupId));
            }
            else
            {
                var open = (AlertOpensGroup)decision;
                groupId = (long)(await ExecuteAsync(
                    "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                    "VALUES ('feedback', @topic, @severity, @fingerprint, @first_at, @at, @count, 'open', @dedup, @summary) RETURNING id",
                    ("topic", open.Topic), ("severity", open.Severity), ("fingerprint", open.Fingerprint), ("first_at", Utc(open.FirstAt)),
                    ("at", at), ("count", open.Count), ("dedup", open.DedupKey), ("summary", open.Summary)))!;
            }

            foreach (var delivery in decision.Deliveries)
            {
                await QueueDeliveryAsync(groupId, delivery.Kind, delivery.Channel, delivery.Due, at);
            }

            await ExecuteAsync(
                "INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at, group_id, severity) " +
                "VALUES (@feedback_id, @sentiment, @topic, @confidence, 'open', @created_at, @group_id, @severity)",
                ("feedback_id", r.Id), ("sentiment", r.Sentiment), ("topic", r.Topic), ("confidence", r.Confidence),
                ("created_at", at), ("group_id", groupId), ("severity", decision.Severity));
        }

        /// <summary>
        /// Replaces a provisional answer, as <see cref="FeedbackWriter"/> does; the row is locked first, so two instances
        /// revising it at once apply one revision and the other sees it final.
        /// </summary>
        public async Task<bool> ReviseAsync(Revision revision)
        {
            RevisedAnswer? previous;
            await using (var current = Command(
                $"SELECT {RevisedAnswer.Columns} FROM feedback WHERE id = @id FOR UPDATE",
                ("id", revision.FeedbackId)))
            await using (var reader = await current.ExecuteReaderAsync())
            {
                previous = await reader.ReadAsync() ? RevisedAnswer.Read(reader) : null;
            }

            if (previous is null || !previous.Accepts(revision))
            {
                return false;
            }

            var answer = revision.Answer;
            if (answer is null)
            {
                await ExecuteAsync(
                    "UPDATE feedback SET status = 'final', claimed_by = NULL, lease_until = NULL WHERE id = @id", ("id", revision.FeedbackId));
            }
            else
            {
                await ExecuteAsync(
                    "UPDATE feedback SET sentiment = @sentiment, topic = @topic, confidence = @confidence, confidence_score = @confidence_score, " +
                    "score_positive = @score_positive, score_negative = @score_negative, score_neutral = @score_neutral, score_mixed = @score_mixed, " +
                    "processing_method = @processing_method, prompt_version = @prompt_version, model = @model, alert_triggered = @alert_triggered, " +
                    "topic_scores = @topic_scores, embedding = coalesce(@embedding, embedding), status = 'final', claimed_by = NULL, lease_until = NULL WHERE id = @id",
                    ("sentiment", answer.Sentiment), ("topic", answer.Topic), ("confidence", answer.Confidence), ("confidence_score", answer.ConfidenceScore),
                    ("score_positive", answer.ScorePositive), ("score_negative", answer.ScoreNegative), ("score_neutral", answer.ScoreNeutral),
                    ("score_mixed", answer.ScoreMixed), ("processing_method", answer.ProcessingMethod), ("prompt_version", answer.PromptVersion),
                    ("model", answer.Model), ("alert_triggered", revision.RaiseAlert), ("topic_scores", answer.TopicScores), ("embedding", answer.Embedding), ("id", revision.FeedbackId));
                Rollups.Add(RollupKey.Of(previous.CreatedAt, previous.Sentiment, previous.Topic, previous.Method, previous.Alert), -1);
                Rollups.Add(RollupKey.Of(previous.CreatedAt, answer.Sentiment, answer.Topic, answer.ProcessingMethod, revision.RaiseAlert), 1);

                if (revision.RaiseAlert && !previous.Alert)
                {
                    answer.Id = revision.FeedbackId;
                    answer.Text = previous.Text;
                    answer.CreatedAt = revision.At;
                    await LockTopicsAsync([answer.Topic]);
                    await InsertAlertAsync(answer);
                }
                else if (!revision.RaiseAlert && previous.Alert)
                {
                    await ExecuteAsync("UPDATE alerts SET state = 'superseded' WHERE feedback_id = @id AND state = 'open'", ("id", revision.FeedbackId));
                }
            }

            await ExecuteAsync(
                "INSERT INTO feedback_revisions (feedback_id, revised_at, previous_sentiment, previous_topic, previous_confidence, previous_method, " +
                "sentiment, topic, confidence, method, prompt_version, model, reason) VALUES (@feedback_id, @revised_at, @previous_sentiment, " +
                "@previous_topic, @previous_confidence, @previous_method, @sentiment, @topic, @confidence, @method, @prompt_version, @model, @reason)",
                ("feedback_id", revision.FeedbackId), ("revised_at", Utc(revision.At)), ("previous_sentiment", previous.Sentiment),
                ("previous_topic", previous.Topic), ("previous_confidence", previous.Confidence), ("previous_method", previous.Method),
                ("sentiment", answer?.Sentiment ?? previous.Sentiment), ("topic", answer?.Topic ?? previous.Topic),
                ("confidence", answer?.Confidence ?? previous.Confidence), ("method", answer?.ProcessingMethod ?? previous.Method),
                ("prompt_version", answer?.PromptVersion), ("model", answer?.Model ?? ""), ("reason", revision.Reason));
            return true;
        }

        /// <summary>Adds a label row, as <see cref="FeedbackWriter"/> does; false when the message does not exist.</summary>
        public async Task<bool> LabelAsync(NewLabel label) =>
            await ExecuteAsync(
                "INSERT INTO labels (feedback_id, sentiment, topic, labelled_at, labelled_by) " +
                "SELECT @feedback_id, @sentiment, @topic, @labelled_at, @labelled_by WHERE EXISTS (SELECT 1 FROM feedback WHERE id = @feedback_id) RETURNING id",
                ("feedback_id", label.FeedbackId), ("sentiment", label.Sentiment), ("topic", label.Topic), ("labelled_at", Utc(label.At)),
                ("labelled_by", label.By)) is not null;

        /// <summary>Records an attempt and gives up the claim: a failed delivery is claimable again (by anyone) when it is due.</summary>
        public async Task<bool> RecordAttemptAsync(DeliveryAttempt attempt) =>
            await ExecuteAsync(
                "UPDATE alert_deliveries SET attempts = attempts + 1, state = @state, next_attempt_at = @next, last_error = @error, " +
                "delivered_at = @delivered, claimed_by = NULL, lease_until = NULL WHERE id = @id AND state = 'pending' RETURNING 1",
                ("state", attempt.State), ("next", Utc(attempt.NextAttemptAt)), ("error", attempt.Error),
                ("delivered", attempt.Delivered ? Utc(attempt.At) : null), ("id", attempt.DeliveryId)) is not null;

        /// <summary>As <see cref="FeedbackWriter"/> does: due now, with a fresh count of attempts.</summary>
        public async Task<int> RetryFailedDeliveriesAsync(DeliveryRetry retry)
        {
            await using var command = Command(
                "UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at = @now, claimed_by = NULL, lease_until = NULL " +
                "WHERE group_id = @group AND state = 'failed'",
                ("now", Utc(retry.At)), ("group", retry.GroupId));
            return await command.ExecuteNonQueryAsync();
        }

        public async Task<bool> ResolveGroupAsync(GroupResolution resolution)
        {
            var at = Utc(resolution.At);
            var resolved = await ExecuteAsync(
                "UPDATE alert_groups SET state = 'resolved', resolved_at = @at WHERE id = @id AND state = 'open' RETURNING id",
                ("at", at), ("id", resolution.GroupId)) is not null;
            if (!resolved)
            {
                return false;
            }

            await ExecuteAsync("UPDATE alerts SET state = 'resolved' WHERE group_id = @id AND state = 'open'", ("id", resolution.GroupId));
            var paged = await HasDeliveryAsync(resolution.GroupId, AlertGrouping.PagerDuty);
            if (AlertGrouping.ResolutionDelivery(paged, at) is { } delivery)
            {
                await QueueDeliveryAsync(resolution.GroupId, delivery.Kind, delivery.Channel, delivery.Due, at);
            }

            return true;
        }

        public async Task<bool> RaiseSpikeAsync(TopicSpike spike)
        {
            var at = Utc(spike.At);
            var groupId = await ExecuteAsync(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                "VALUES (@kind, @topic, @severity, 0, @at, @at, 1, 'open', @dedup, @summary) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                ("kind", spike.Kind), ("topic", spike.Topic), ("severity", spike.Severity), ("at", at), ("dedup", spike.DedupKey), ("summary", spike.Summary));
            if (groupId is not long id)
            {
                return false;
            }

            foreach (var delivery in grouping.SpikeDeliveries(spike.Severity, at))
            {
                await QueueDeliveryAsync(id, delivery.Kind, delivery.Channel, delivery.Due, at);
            }

            return true;
        }

        /// <summary>Counts LLM calls in this commit, in the hour of <paramref name="at"/>.</summary>
        public void Spend(LlmUsage usage, DateTime at)
        {
            if (usage.IsNone)
            {
                return;
            }

            var hour = LlmPricing.HourOf(at);
            _usage[hour] = _usage.GetValueOrDefault(hour) + usage;
            _lastSpentAt = at > _lastSpentAt ? at : _lastSpentAt;
        }

        /// <summary>
        /// Adds the commit's usage to its hours, which every instance adds to, and raises the budget alerts the months'
        /// totals reached (<see cref="LlmBudgetAlerts"/>). Instances adding to the same hour take turns on its row, so
        /// the later one's sum counts the earlier one's tokens; an alert is raised once whoever reaches it, as its group's
        /// dedup key is unique, and the insert asks first so an alert already raised costs no id of the sequence.
        /// </summary>
        public async Task WriteUsageAsync()
        {
            if (_usage.Count == 0)
            {
                return;
            }

            var months = new HashSet<DateTime>();
            foreach (var (hour, usage) in _usage.OrderBy(u => u.Key))
            {
                await ExecuteAsync(
                    "INSERT INTO llm_usage (hour, calls, input_tokens, output_tokens) VALUES (@hour, @calls, @input, @output) ON CONFLICT (hour) DO UPDATE SET " +
                    "calls = llm_usage.calls + excluded.calls, input_tokens = llm_usage.input_tokens + excluded.input_tokens, " +
                    "output_tokens = llm_usage.output_tokens + excluded.output_tokens",
                    ("hour", Utc(hour)), ("calls", (long)usage.Calls), ("input", usage.InputTokens), ("output", usage.OutputTokens));
                months.Add(LlmPricing.MonthOf(hour));
            }

            var at = Utc(_lastSpentAt);
            if (!budget.Enabled)
            {
                return;
            }

            foreach (var month in months)
            {
                var tokens = (long)(await ExecuteAsync(
                    "SELECT coalesce(sum(input_tokens + output_tokens), 0)::bigint FROM llm_usage WHERE hour >= @from AND hour < @to",
                    ("from", Utc(month)), ("to", Utc(month.AddMonths(1)))))!;
                foreach (var alert in budget.Reached(month, tokens))
                {
                    if (await ExecuteAsync(
                        "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                        $"SELECT '{LlmBudgetAlerts.Kind}', '{LlmBudgetAlerts.Topic}', @severity, 0, @at, @at, 1, 'open', @dedup, @summary " +
                        "WHERE NOT EXISTS (SELECT 1 FROM alert_groups WHERE dedup_key = @dedup) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                        ("severity", alert.Severity), ("at", at), ("dedup", alert.DedupKey), ("summary", alert.Summary)) is not long id)
                    {
                        continue;
                    }

                    foreach (var delivery in grouping.SpikeDeliveries(alert.Severity, at))
                    {
                        await QueueDeliveryAsync(id, delivery.Kind, delivery.Channel, delivery.Due, at);
                    }
                }
            }
        }

        public async Task HeartbeatAsync(DateTime at) =>
            await ExecuteAsync(
                "INSERT INTO store_heartbeat (id, at) VALUES (1, @at) ON CONFLICT (id) DO UPDATE SET at = excluded.at", ("at", Utc(at)));

        /// <summary>
        /// The topic's newest open groups that started at <paramref name="since"/> or later, as many as
        /// <see cref="AlertGrouping.RecentGroups"/>, oldest first: those are the only ones an alert may join.
        /// </summary>
        private async Task<List<OpenAlertGroup>> RecentGroupsAsync(string topic, DateTime since)
        {
            await using var command = Command(
                $"SELECT id, fingerprint, severity, count, first_at, {PagedColumn} FROM alert_groups " +
                "WHERE kind = 'feedback' AND state = 'open' AND topic = @topic AND first_at >= @since " +
                $"ORDER BY first_at DESC, id DESC LIMIT {AlertGrouping.RecentGroups}",
                ("topic", topic), ("since", since));
            await using var reader = await command.ExecuteReaderAsync();
            var groups = new List<OpenAlertGroup>();
            while (await reader.ReadAsync())
            {
                groups.Add(new OpenAlertGroup(
                    reader.GetInt64(0), topic, reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetDateTime(4), reader.GetBoolean(5)));
            }

            groups.Reverse();
            return groups;
        }

        /// <summary>The shared group's row here: open, resolved already (its key is taken and cannot be inserted again), or none yet.</summary>
        private async Task<StoredSharedGroup> FindSharedGroupAsync(SharedGroup shared)
        {
            await using var command = Command(
                $"SELECT id, topic, fingerprint, severity, count, first_at, state, {PagedColumn} FROM alert_groups WHERE dedup_key = @dedup",
                ("dedup", shared.DedupKey));
            await using var reader = await command.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                return new StoredSharedGroup(shared, null, Resolved: false);
            }

            if (reader.GetString(6) != "open")
            {
                return new StoredSharedGroup(shared, null, Resolved: true);
            }

            var row = new OpenAlertGroup(
                reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt32(4), reader.GetDateTime(5),
                reader.GetBoolean(7));
            return new StoredSharedGroup(shared, row, Resolved: false);
        }

        /// <summary>Whether the group has a delivery on <paramref name="channel"/>; a page the budget held was never sent, so not that.</summary>
        private async Task<bool> HasDeliveryAsync(long groupId, string channel) =>
            await ExecuteAsync(
                $"SELECT 1 FROM alert_deliveries WHERE group_id = @group AND channel = @channel AND state <> '{PagingBudget.Held}' LIMIT 1",
                ("group", groupId), ("channel", channel)) is not null;

        /// <summary>
        /// Queues one delivery; a second of the same kind for the same group and channel is ignored (unique index). A page
        /// past the <see cref="PagingBudget"/> is stored held, and counted in the hour's summary group instead.
        /// </summary>
        private async Task QueueDeliveryAsync(long groupId, string kind, string channel, DateTime due, DateTime now)
        {
            var state = PagingBudget.Counts(kind, channel) && !grouping.Budget.Allows(await PagesInPeriodAsync(now)) ? PagingBudget.Held : "pending";
            var added = await InsertDeliveryAsync(groupId, kind, channel, due, now, state);
            AlertsQueued |= added;
            if (added && state == PagingBudget.Held)
            {
                await HoldPageAsync(now);
            }
        }

        private async Task<bool> InsertDeliveryAsync(long groupId, string kind, string channel, DateTime due, DateTime now, string state)
        {
            await using var command = Command(
                "INSERT INTO alert_deliveries (group_id, kind, channel, state, attempts, next_attempt_at, created_at) " +
                "VALUES (@group, @kind, @channel, @state, 0, @due, @now) ON CONFLICT (group_id, kind, channel) DO NOTHING",
                ("group", groupId), ("kind", kind), ("channel", channel), ("state", state), ("due", Utc(due)), ("now", Utc(now)));
            return await command.ExecuteNonQueryAsync() > 0;
        }

        /// <summary>
        /// The pages queued in the last hour by every instance on this database. The lock, which every instance takes
        /// before counting and holds until its commit, makes two of them queue pages one after the other, so the budget
        /// cannot be overrun by two transactions that each counted one page short of it.
        /// </summary>
        private async Task<long> PagesInPeriodAsync(DateTime now)
        {
            await ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('feedback.paging_budget'))");
            return (long)(await ExecuteAsync(
                $"SELECT count(*) FROM alert_deliveries WHERE channel = '{AlertGrouping.PagerDuty}' AND kind = 'initial' " +
                $"AND state <> '{PagingBudget.Held}' AND created_at > @since",
                ("since", Utc(PagingBudget.CountedSince(now)))))!;
        }

        /// <summary>Counts a held page in the open summary group of the last hour, or opens one with its own page.</summary>
        private async Task HoldPageAsync(DateTime now)
        {
            var summaryId = await ExecuteAsync(
                $"UPDATE alert_groups SET count = count + 1, last_at = @now WHERE id = (SELECT id FROM alert_groups WHERE kind = '{PagingBudget.SummaryKind}' " +
                "AND state = 'open' AND first_at > @since ORDER BY id DESC LIMIT 1) RETURNING id",
                ("now", Utc(now)), ("since", Utc(PagingBudget.CountedSince(now))));
            if (summaryId is not null)
            {
                return;
            }

            var id = (long)(await ExecuteAsync(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                $"VALUES ('{PagingBudget.SummaryKind}', '{PagingBudget.SummaryTopic}', 'critical', 0, @now, @now, 1, 'open', NULL, @summary) RETURNING id",
                ("now", Utc(now)), ("summary", PagingBudget.Summary)))!;
            var page = PagingBudget.SummaryPage(now);
            AlertsQueued |= await InsertDeliveryAsync(id, page.Kind, page.Channel, page.Due, now, "pending");
        }

        private async Task<object?> ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
        {
            await using var command = Command(sql, parameters);
            var result = await command.ExecuteScalarAsync();
            return result is DBNull ? null : result;
        }

        private NpgsqlCommand Command(string sql, params (string Name, object? Value)[] parameters)
        {
            var command = new NpgsqlCommand(sql, Connection, Transaction);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command;
        }
    }
}
