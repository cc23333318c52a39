using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;
using Npgsql;
using NpgsqlTypes;

namespace Feedback.Storage.Postgres;

/// <summary>
/// The PostgreSQL writer, with <see cref="FeedbackWriter"/>'s contract: requests queue in a bounded channel, one loop
/// takes everything waiting and commits it in one transaction, and each request completes only after the commit.
/// The messages of a group commit go to the server as one <see cref="NpgsqlBatch"/> (one round trip); idempotency keys
/// are settled by the unique index (ON CONFLICT), which holds across every instance writing to the same database.
/// </summary>
internal sealed partial class PostgresWriter : GroupCommitWriter
{
    private const string FeedbackColumns = FeedbackRowBinding.Columns;

    private static readonly string InsertFeedbackSql =
        $"INSERT INTO feedback ({FeedbackColumns}, claimed_by, lease_until) VALUES (" +
        string.Join(", ", Enumerable.Range(1, 26).Select(i => "$" + i)) + ") ON CONFLICT (idempotency_key) DO NOTHING RETURNING id";

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresStoreSettings _settings;
    private readonly AlertGrouping _grouping;
    private readonly OpenGroups _openGroups = new();
    private readonly LlmBudgetAlerts _budget;
    private readonly TimeSpan _provisionalLease;
    private readonly ILogger<PostgresWriter> _logger;

    public PostgresWriter(
        NpgsqlDataSource dataSource, PostgresStoreSettings settings, StoreHealth health, AlertPolicy alerts, LlmPricing pricing, AlertSignal signal,
        ILogger<PostgresWriter> logger)
        : base(health, signal, logger)
    {
        _dataSource = dataSource;
        _settings = settings;
        _grouping = new AlertGrouping(alerts);
        _budget = new LlmBudgetAlerts(pricing);
        _logger = logger;

        // A provisional row belongs to the instance following its LLM call until that call has surely ended;
        // only then may another instance's sweeper ask the LLM again.
        _provisionalLease = settings.LlmTimeout + TimeSpan.FromSeconds(5);
    }

    protected override bool IsStoreFault(Exception exception) => PostgresFaults.IsStoreFault(exception);

    protected override string RecordStoreFault(Exception exception)
    {
        var reason = PostgresFaults.Describe(exception);
        LogStoreUnavailable(_logger, reason, (exception as PostgresException)?.SqlState ?? "none", exception);

        // Connections the failure may have broken are not handed out again; the next write opens fresh ones.
        _dataSource.Clear();
        return reason;
    }

    /// <summary>
    /// Two commits in flight: while one waits for its WAL flush, the next batch is sent on a second connection. An
    /// idempotency key in both waits on the unique index for the first to commit and is then answered as a replay
    /// (<see cref="SettleConflictsAsync"/>); alert groups of one topic take turns on the topic's lock.
    /// </summary>
    protected override int CommitsInFlight => 2;

    protected override async ValueTask<bool> CommitOnceAsync(IReadOnlyList<IQueuedWrite> batch)
    {
        // Every message of the group commit, in queue order.
        var items = new List<NewFeedback>();
        var othersQueued = false;
        foreach (var pending in batch)
        {
            switch (pending)
            {
                case Queued<NewFeedback, WriteResult> one:
                    items.Add(one.Operation);
                    break;
                case Queued<NewFeedbackBatch, IReadOnlyList<WriteResult>> many:
                    items.AddRange(many.Operation.Items);
                    break;
                default:
                    othersQueued = true;
                    break;
            }
        }

        await using var connection = await _dataSource.OpenConnectionAsync();
        var session = new Session(connection, _grouping, _budget);
        foreach (var item in items)
        {
            session.Spend(item.Usage, item.Record.CreatedAt);
            // PostgreSQL keeps microseconds: the answer given now must equal the row a replay reads back later.
            var at = Session.Utc(item.Record.CreatedAt);
            item.Record.CreatedAt = at.AddTicks(-(at.Ticks % TimeSpan.TicksPerMicrosecond));
        }

        var alerted = items.Exists(item => item.RaiseAlert);
        if (!alerted && !othersQueued && items.Count >= CopyRows)
        {
            return await CopyAsync(session, batch, items);
        }

        if (!alerted && !othersQueued && !(_budget.Enabled && session.HasUsage))
        {
            // Messages alone: one batch without a transaction of its own is one implicit transaction, committed when the
            // server reaches its end, so the rows, the usage and the commit cost one round trip.
            var written = await InsertAsync(session, items, plan: null, usageInBatch: true);
            Produce(batch, written.Results);
            return false;
        }

        // The commit is in flight on its alerted topics from its read of their groups until it has surely committed or not.
        var plan = alerted ? new AlertPlan(_grouping, _openGroups, items) : null;
        var committed = false;
        try
        {
            var alertsQueued = !othersQueued && !(_budget.Enabled && session.HasUsage)
                ? await CommitWithAlertsAsync(session, batch, items, plan!)
                : await CommitInTransactionAsync(session, batch, items, plan);
            committed = true;
            return alertsQueued;
        }
        finally
        {
            plan?.Leave(committed);
        }
    }

    /// <summary>Everything else, statement by statement in one transaction: revisions, labels, deliveries, resolutions, spikes, budget alerts.</summary>
    private async Task<bool> CommitInTransactionAsync(Session session, IReadOnlyList<IQueuedWrite> batch, List<NewFeedback> items, AlertPlan? plan)
    {
        var connection = session.Connection;
        await using var transaction = await connection.BeginTransactionAsync();
        session.Transaction = transaction;
        var inserted = items.Count == 0 ? InsertedBatch.Empty : await InsertAsync(session, items, plan, usageInBatch: false);
        if (plan is not null)
        {
            await using var writes = await WriteAlertsAsync(session, items, inserted) ?? new NpgsqlBatch();
            await ExecuteAsync(session, writes, inserted.Plan!);
        }

        Produce(batch, inserted.Results);
        foreach (var pending in batch)
        {
            switch (pending)
            {
                case Queued<Revision, bool> revision:
                    revision.Produced(await session.ReviseAsync(revision.Operation));
                    session.Spend(revision.Operation.Usage, revision.Operation.At);
                    break;
                case Queued<LlmSpend, bool> spend:
                    session.Spend(spend.Operation.Usage, spend.Operation.At);
                    spend.Produced(true);
                    break;
                case Queued<NewLabel, bool> label:
                    label.Produced(await session.LabelAsync(label.Operation));
                    break;
                case Queued<DeliveryAttempt, bool> attempt:
                    attempt.Produced(await session.RecordAttemptAsync(attempt.Operation));
                    break;
                case Queued<DeliveryRetry, int> retry:
                    retry.Produced(await session.RetryFailedDeliveriesAsync(retry.Operation));
                    break;
                case Queued<GroupResolution, bool> resolution:
                    resolution.Produced(await session.ResolveGroupAsync(resolution.Operation));
                    break;
                case Queued<TopicSpike, bool> spike:
                    spike.Produced(await session.RaiseSpikeAsync(spike.Operation));
                    break;
                case Queued<Probe, bool> probe:
                    await session.HeartbeatAsync(probe.Operation.At);
                    probe.Produced(true);
                    break;
            }
        }

        await session.Rollups.WriteAsync(connection, transaction);
        await session.WriteUsageAsync();
        await transaction.CommitAsync();
        return session.AlertsQueued;
    }

    /// <summary>
    /// A commit of this many messages or more without alerts (an import's chunk, a large POST /feedback/batch) is copied
    /// in (<see cref="CopyAsync"/>): one row of binary COPY costs the server less than one execution of the insert.
    /// </summary>
    private const int CopyRows = 128;

    private static readonly string CopyColumns = $"{FeedbackColumns}, claimed_by, lease_until";

    /// <summary>
    /// Writes many messages with binary COPY: straight into feedback when none of their keys is stored
    /// (<see cref="CopyNewRowsAsync"/>), else through a temporary table that settles the keys as the single insert does
    /// (<see cref="CopyThroughTableAsync"/>). The ids are taken from the sequence in the batch's order either way, so the
    /// answers are matched to the rows by id and no row is read back.
    /// </summary>
    private async Task<bool> CopyAsync(Session session, IReadOnlyList<IQueuedWrite> batch, List<NewFeedback> items)
    {
        try
        {
            var ids = await CopyNewRowsAsync(session, items) ?? await CopyThroughTableAsync(session, items);
            var results = await SettleConflictsAsync(session, items, ids);
            CountInserted(session, items, ids);
            await session.Rollups.WriteAsync(session.Connection, session.Transaction!);
            await session.WriteUsageAsync();
            await session.Transaction!.CommitAsync();
            Produce(batch, results);
            return false;
        }
        finally
        {
            if (session.Transaction is { } transaction)
            {
                await transaction.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Takes an id for each message from the sequence (in the round trip that begins the transaction) and copies the rows
    /// into feedback with them: no temporary table, no second pass over the rows, no conflict check per row. A key stored
    /// already (a replay, a row another instance or import wrote meanwhile, a key twice in the batch) fails the COPY on the
    /// unique index: the transaction is rolled back and null returned, for <see cref="CopyThroughTableAsync"/>.
    /// </summary>
    private async Task<long?[]?> CopyNewRowsAsync(Session session, List<NewFeedback> items)
    {
        session.Transaction = await session.Connection.BeginTransactionAsync();
        var ids = new long?[items.Count];
        await using (var next = new NpgsqlCommand(
            "SELECT nextval(pg_get_serial_sequence('feedback', 'id')) FROM generate_series(1, $1)", session.Connection, session.Transaction)
        {
            Parameters = { new NpgsqlParameter<int> { TypedValue = items.Count } },
        })
        await using (var reader = await next.ExecuteReaderAsync())
        {
            for (var i = 0; await reader.ReadAsync(); i++)
            {
                ids[i] = reader.GetInt64(0);
            }
        }

        try
        {
            await using var copy = await session.Connection.BeginBinaryImportAsync($"COPY feedback (id, {CopyColumns}) FROM STDIN (FORMAT BINARY)");
            for (var i = 0; i < items.Count; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(ids[i]!.Value, NpgsqlDbType.Bigint);
                await WriteCopyRowAsync(copy, items[i].Record, items[i].Followed);
            }

            await copy.CompleteAsync();
            return ids;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await session.Transaction.RollbackAsync();
            await session.Transaction.DisposeAsync();
            session.Transaction = null;
            return null;
        }
    }

    /// <summary>
    /// Copies the messages into a temporary table, then one INSERT ... SELECT moves them into feedback in their order,
    /// with the same conflict rule as the single insert; each copied row's id is taken from the sequence first.
    /// </summary>
    private async Task<long?[]> CopyThroughTableAsync(Session session, List<NewFeedback> items)
    {
        session.Transaction = await session.Connection.BeginTransactionAsync();
        var transaction = session.Transaction;
        await using (var create = new NpgsqlCommand(
            $"CREATE TEMP TABLE feedback_copy ON COMMIT DROP AS SELECT 0 AS ord, {FeedbackColumns}, claimed_by, lease_until FROM feedback WITH NO DATA",
            session.Connection, transaction))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var copy = await session.Connection.BeginBinaryImportAsync($"COPY feedback_copy (ord, {CopyColumns}) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < items.Count; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(i, NpgsqlDbType.Integer);
                await WriteCopyRowAsync(copy, items[i].Record, items[i].Followed);
            }

            await copy.CompleteAsync();
        }

        var ids = new long?[items.Count];
        await using (var insert = new NpgsqlCommand(
            "WITH src AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('feedback', 'id')) AS id, c.* FROM (SELECT * FROM feedback_copy ORDER BY ord) c), " +
            $"ins AS (INSERT INTO feedback (id, {FeedbackColumns}, claimed_by, lease_until) SELECT id, {FeedbackColumns}, claimed_by, lease_until FROM src " +
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id) " +
            "SELECT src.ord, src.id FROM src JOIN ins ON ins.id = src.id",
            session.Connection, transaction))
        await using (var reader = await insert.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }

        return ids;
    }

    /// <summary>The columns of <see cref="CopyColumns"/> of one row, as <see cref="InsertCommand"/> binds them; the row is started by the caller.</summary>
    private async Task WriteCopyRowAsync(NpgsqlBinaryImporter copy, FeedbackRecord r, bool followed)
    {
        var leased = followed && r.Status == "provisional";
        await copy.WriteAsync(r.Text, NpgsqlDbType.Text);
        await WriteTextAsync(copy, r.Source);
        await WriteTextAsync(copy, r.CustomerId);
        await WriteTextAsync(copy, r.Metadata);
        await copy.WriteAsync(r.Sentiment, NpgsqlDbType.Text);
        await copy.WriteAsync(r.Topic, NpgsqlDbType.Text);
        await copy.WriteAsync(r.Confidence, NpgsqlDbType.Double);
        await copy.WriteAsync(r.ConfidenceScore, NpgsqlDbType.Text);
        await copy.WriteAsync(r.ScorePositive, NpgsqlDbType.Double);
        await copy.WriteAsync(r.ScoreNegative, NpgsqlDbType.Double);
        await copy.WriteAsync(r.ScoreNeutral, NpgsqlDbType.Double);
        await copy.WriteAsync(r.ScoreMixed, NpgsqlDbType.Double);
        await copy.WriteAsync(r.AlertTriggered, NpgsqlDbType.Boolean);
        await copy.WriteAsync(r.ProcessingMethod, NpgsqlDbType.Text);
        await copy.WriteAsync(r.Language, NpgsqlDbType.Text);
        await WriteTextAsync(copy, r.PromptVersion);
        await copy.WriteAsync(r.Model, NpgsqlDbType.Text);
        await copy.WriteAsync(r.Status, NpgsqlDbType.Text);
        await copy.WriteAsync(r.Warnings, NpgsqlDbType.Text);
        await copy.WriteAsync(Session.Utc(r.CreatedAt), NpgsqlDbType.TimestampTz);
        await WriteTextAsync(copy, r.IdempotencyKey);
        await WriteTextAsync(copy, r.RequestHash);
        await WriteTextAsync(copy, r.TopicScores);
        if (r.Embedding is null)
        {
            await copy.WriteNullAsync();
        }
        else
        {
            await copy.WriteAsync(r.Embedding, NpgsqlDbType.Bytea);
        }

        await WriteTextAsync(copy, leased ? _settings.InstanceId : null);
        if (leased)
        {
            await copy.WriteAsync(Session.Utc(r.CreatedAt) + _provisionalLease, NpgsqlDbType.TimestampTz);
        }
        else
        {
            await copy.WriteNullAsync();
        }
    }

    private static async Task WriteTextAsync(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            await copy.WriteNullAsync();
        }
        else
        {
            await copy.WriteAsync(value, NpgsqlDbType.Text);
        }
    }

    /// <summary>
    /// Messages some of which raise alerts, in two round trips: BEGIN, the inserts, the topics' locks and their groups;
    /// then the groups, alerts, deliveries, usage and COMMIT. The transaction is begun and committed by statements of
    /// those batches, so the commit costs no round trip of its own and the topics' locks are held one round trip less.
    /// </summary>
    private async Task<bool> CommitWithAlertsAsync(Session session, IReadOnlyList<IQueuedWrite> batch, List<NewFeedback> items, AlertPlan plan)
    {
        try
        {
            var inserted = await InsertAsync(session, items, plan, usageInBatch: false, begin: true);
            await using var writes = await WriteAlertsAsync(session, items, inserted) ?? new NpgsqlBatch();
            session.Rollups.AddTo(writes);
            session.AddUsage(writes);
            writes.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await ExecuteAsync(session, writes, inserted.Plan!);
            Produce(batch, inserted.Results);
            return session.AlertsQueued;
        }
        catch (Exception) when (session.Connection.FullState == System.Data.ConnectionState.Open)
        {
            await RollBackAsync(session.Connection);
            throw;
        }
    }

    /// <summary>
    /// The connection goes back to the pool: not with this transaction still open on it. A connection that cannot even
    /// roll back is broken, and Npgsql does not pool a broken connection.
    /// </summary>
    private static async Task RollBackAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The failure that brought us here is the one to report.
        }
    }

    /// <summary>
    /// Runs the alerts' writes (<see cref="AlertPlan.Decide"/>), reads the ids of the groups they opened, and notes whether
    /// they queued deliveries.
    /// </summary>
    private static async Task ExecuteAsync(Session session, NpgsqlBatch writes, AlertPlan plan)
    {
        if (writes.BatchCommands.Count == 0)
        {
            return;
        }

        writes.Connection = session.Connection;
        writes.Transaction = session.Transaction;
        var opened = new List<long>();
        await using (var reader = await writes.ExecuteReaderAsync())
        {
            var index = 0;
            do
            {
                if (plan.OpensGroupAt(index++) && await reader.ReadAsync())
                {
                    opened.Add(long.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            while (await reader.NextResultAsync());
        }

        plan.Opened(opened);
        session.QueuedDeliveries(AlertPlan.DeliveriesAdded(writes));
    }

    /// <summary>Hands each message request its results, in queue order.</summary>
    private static void Produce(IReadOnlyList<IQueuedWrite> batch, List<WriteResult> written)
    {
        var next = 0;
        foreach (var pending in batch)
        {
            switch (pending)
            {
                case Queued<NewFeedback, WriteResult> one:
                    one.Produced(written[next++]);
                    break;
                case Queued<NewFeedbackBatch, IReadOnlyList<WriteResult>> many:
                    many.Produced(written.GetRange(next, many.Operation.Items.Count));
                    next += many.Operation.Items.Count;
                    break;
            }
        }
    }

    /// <summary>
    /// Inserts the messages in one batch, and in the same round trip, when some raise alerts, takes their topics' locks
    /// and reads the groups those alerts may join (<see cref="AlertPlan"/>); with <paramref name="usageInBatch"/>, the
    /// commit's LLM usage and rollups go in too. Replays are then settled against the rows their keys already name.
    /// </summary>
    private async Task<InsertedBatch> InsertAsync(Session session, List<NewFeedback> items, AlertPlan? plan, bool usageInBatch, bool begin = false)
    {
        var ids = new long?[items.Count];
        await using (var insert = new NpgsqlBatch(session.Connection, session.Transaction))
        {
            // BEGIN returns no rows: the reader passes over it to the first insert's.
            if (begin)
            {
                insert.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
            }

            foreach (var item in items)
            {
                insert.BatchCommands.Add(InsertCommand(item.Record, item.Followed));
            }

            plan?.AddReads(insert);
            if (usageInBatch)
            {
                // The inserts are not answered yet: each message is counted in the rollups if its row is this transaction's.
                foreach (var item in items)
                {
                    session.Rollups.AddIfInserted(item.Record);
                }

                session.Rollups.AddTo(insert);
                session.AddUsage(insert);
            }

            await using var reader = await insert.ExecuteReaderAsync();
            for (var i = 0; i < items.Count; i++)
            {
                if (await reader.ReadAsync())
                {
                    ids[i] = reader.GetInt64(0);
                }

                await reader.NextResultAsync();
            }

            if (plan is not null)
            {
                await plan.ReadAsync(reader);
            }
        }

        if (plan is not null)
        {
            await plan.CompleteReadsAsync(session.Connection);
        }

        var results = await SettleConflictsAsync(session, items, ids);
        if (!usageInBatch)
        {
            CountInserted(session, items, ids);
        }

        return new InsertedBatch(results, ids, plan);
    }

    /// <summary>Counts the messages whose rows were inserted (an id: their key was not taken) in the commit's rollups.</summary>
    private static void CountInserted(Session session, List<NewFeedback> items, long?[] ids)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (ids[i] is not null)
            {
                session.Rollups.Add(items[i].Record);
            }
        }
    }

    /// <summary>
    /// The answers: created, or, for a key that inserted nothing, a replay or a reuse of the row the key names. That row
    /// was inserted by an earlier request, another instance, a commit in flight beside this one, or earlier in this
    /// batch; it is read in a statement of its own, which sees it committed (or this transaction's own).
    /// </summary>
    private static async Task<List<WriteResult>> SettleConflictsAsync(Session session, List<NewFeedback> items, long?[] ids)
    {
        var conflicts = items.Where((_, i) => ids[i] is null).Select(item => item.Record.IdempotencyKey!).Distinct(StringComparer.Ordinal).ToArray();
        var earlier = conflicts.Length == 0 ? [] : await session.FindByIdempotencyKeysAsync(conflicts);
        var results = new List<WriteResult>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var record = items[i].Record;
            if (ids[i] is not { } id)
            {
                var found = earlier[record.IdempotencyKey!];
                results.Add(new WriteResult(found.RequestHash == record.RequestHash ? WriteOutcome.Replayed : WriteOutcome.KeyReused, found));
                continue;
            }

            record.Id = id;
            results.Add(new WriteResult(WriteOutcome.Created, record));
        }

        return results;
    }

    /// <summary>
    /// Groups the alerts of the inserted messages and queues their deliveries: decided here on the groups the insert's
    /// round trip read, and returned as one more batch to send. A page that the paging budget must count is decided on the
    /// store's count of pages, read under its lock: such a commit stores its alerts one by one here instead (null).
    /// </summary>
    private static async Task<NpgsqlBatch?> WriteAlertsAsync(Session session, List<NewFeedback> items, InsertedBatch inserted)
    {
        var alerted = items.Where((item, i) => inserted.Ids[i] is not null && item.RaiseAlert).ToList();
        if (alerted.Count == 0)
        {
            return null;
        }

        if (inserted.Plan!.Decide(alerted) is { } writes)
        {
            return writes;
        }

        foreach (var item in alerted)
        {
            await session.InsertAlertAsync(item.Record, item.Group);
        }

        return null;
    }

    /// <remarks>
    /// Only a followed provisional row is leased: one left provisional because every LLM slot was busy has no call to
    /// wait for, and the next sweep of any instance may take it.
    /// </remarks>
    private NpgsqlBatchCommand InsertCommand(FeedbackRecord r, bool followed)
    {
        var leased = followed && r.Status == "provisional";
        var command = new NpgsqlBatchCommand(InsertFeedbackSql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Text });
        p.Add(Text(r.Source));
        p.Add(Text(r.CustomerId));
        p.Add(Text(r.Metadata));
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Sentiment });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Topic });
        p.Add(new NpgsqlParameter<double> { TypedValue = r.Confidence });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.ConfidenceScore });
        p.Add(new NpgsqlParameter<double> { TypedValue = r.ScorePositive });
        p.Add(new NpgsqlParameter<double> { TypedValue = r.ScoreNegative });
        p.Add(new NpgsqlParameter<double> { TypedValue = r.ScoreNeutral });
        p.Add(new NpgsqlParameter<double> { TypedValue = r.ScoreMixed });
        p.Add(new NpgsqlParameter<bool> { TypedValue = r.AlertTriggered });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.ProcessingMethod });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Language });
        p.Add(Text(r.PromptVersion));
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Model });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Status });
        p.Add(new NpgsqlParameter<string> { TypedValue = r.Warnings });
        p.Add(new NpgsqlParameter<DateTime> { TypedValue = Session.Utc(r.CreatedAt) });
        p.Add(Text(r.IdempotencyKey));
        p.Add(Text(r.RequestHash));
        p.Add(Text(r.TopicScores));
        p.Add(Bytes(r.Embedding));
        p.Add(Text(leased ? _settings.InstanceId : null));
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = leased ? Session.Utc(r.CreatedAt) + _provisionalLease : DBNull.Value });
        return command;
    }

    /// <summary>What the insert's round trip returned: the answers, each message's new id (null: its key was taken), the alerts' plan.</summary>
    private sealed record InsertedBatch(List<WriteResult> Results, long?[] Ids, AlertPlan? Plan)
    {
        public static readonly InsertedBatch Empty = new([], [], null);
    }

    private static NpgsqlParameter Bytes(byte[]? value) => new() { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    [LoggerMessage(Level = LogLevel.Error, Message = "Store unavailable: {Reason} (SQLSTATE {SqlState})")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason, string sqlState, Exception exception);
}
