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

    protected override async ValueTask<bool> CommitOnceAsync(IReadOnlyList<IQueuedWrite> batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var session = new Session(connection, transaction, _grouping, _budget);

        // Every message of the group commit, in queue order, inserted in one round trip.
        var items = new List<NewFeedback>();
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
            }
        }

        var written = items.Count == 0 ? [] : await InsertAsync(session, items);
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
                    await session.HeartbeatAsync(DateTime.UtcNow);
                    probe.Produced(true);
                    break;
            }
        }

        await session.WriteUsageAsync();
        await transaction.CommitAsync();
        return session.AlertsQueued;
    }

    /// <summary>Inserts the messages, settles replays against the rows their keys already name, and raises the alerts.</summary>
    private async Task<List<WriteResult>> InsertAsync(Session session, List<NewFeedback> items)
    {
        var ids = new long?[items.Count];
        foreach (var item in items)
        {
            session.Spend(item.Usage, item.Record.CreatedAt);
            // PostgreSQL keeps microseconds: the answer given now must equal the row a replay reads back later.
            var at = Session.Utc(item.Record.CreatedAt);
            item.Record.CreatedAt = at.AddTicks(-(at.Ticks % TimeSpan.TicksPerMicrosecond));
        }

        await using (var insert = new NpgsqlBatch(session.Connection, session.Transaction))
        {
            foreach (var item in items)
            {
                insert.BatchCommands.Add(InsertCommand(item.Record, item.Followed));
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
        }

        // A key that inserted nothing was used before: by an earlier request, another instance, or earlier in this batch.
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

        var alerted = items.Where((item, i) => ids[i] is not null && item.RaiseAlert).ToList();
        if (alerted.Count > 0)
        {
            await session.LockTopicsAsync(alerted.Select(item => item.Record.Topic));
            foreach (var item in alerted)
            {
                await session.InsertAlertAsync(item.Record, item.Group);
            }
        }

        return results;
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

    private static NpgsqlParameter Bytes(byte[]? value) => new() { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    [LoggerMessage(Level = LogLevel.Error, Message = "Store unavailable: {Reason} (SQLSTATE {SqlState})")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason, string sqlState, Exception exception);
}
