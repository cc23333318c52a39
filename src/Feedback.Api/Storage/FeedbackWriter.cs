using System.Threading.Channels;
using Feedback.Api.Alerts;
using Microsoft.Data.Sqlite;

namespace Feedback.Api.Storage;

/// <summary>
/// A message to store, with the alert it raises when <see cref="RaiseAlert"/> is set, in the group instances
/// agreed on in Redis when <see cref="Group"/> is set. <see cref="Followed"/> says this instance follows the LLM call
/// of a provisional answer, so no other instance's sweep should ask again while that call may still answer.
/// </summary>
internal sealed record NewFeedback(FeedbackRecord Record, bool RaiseAlert, SharedGroup? Group = null, bool Followed = false);

/// <summary>Several messages committed in one transaction (POST /feedback/batch, imports).</summary>
internal sealed record NewFeedbackBatch(IReadOnlyList<NewFeedback> Items);

/// <summary>
/// Replaces a provisional answer. <see cref="Answer"/> holds the new labels (sentiment, topic, scores,
/// method, model, prompt version), or is null when the LLM gave no answer and the local one becomes final.
/// <see cref="ReplacesFinal"/> lets it replace a final answer too (reclassify); otherwise a row no longer
/// provisional is left alone, so a late LLM answer cannot overwrite a later one.
/// </summary>
internal sealed record Revision(long FeedbackId, FeedbackRecord? Answer, bool RaiseAlert, string Reason, DateTime At, bool ReplacesFinal = false);

/// <summary>What became of a write.</summary>
internal enum WriteOutcome
{
    /// <summary>A new row was committed.</summary>
    Created,

    /// <summary>The Idempotency-Key was seen with the same body: the earlier row is returned.</summary>
    Replayed,

    /// <summary>The Idempotency-Key was seen with a different body.</summary>
    KeyReused,
}

internal sealed record WriteResult(WriteOutcome Outcome, FeedbackRecord Record);

/// <summary>
/// The only writer to the SQLite file. Requests queue in a bounded channel; the writer takes everything
/// that is waiting, commits it in one transaction (group commit) and only then completes each request,
/// so a 201 is sent for committed rows only and concurrent requests share one fsync instead of
/// fighting over the write lock (SQLITE_BUSY and its 150 ms retry sleep never happen in-process).
/// </summary>
internal sealed partial class FeedbackWriter : BackgroundService, IFeedbackStore
{
    private const int MaxBatch = 256;

    /// <summary>How many times a commit waits for more writes to arrive while they keep arriving.</summary>
    private const int MaxYields = 3;

    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(8192) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly int _busyTimeoutMs;
    private readonly StoreHealth _health;
    private readonly AlertPolicy _alerts;
    private readonly AlertSignal _signal;
    private readonly ILogger<FeedbackWriter> _logger;
    private Statements? _statements;

    public FeedbackWriter(SqliteStoreSettings settings, StoreHealth health, AlertPolicy alerts, AlertSignal signal, ILogger<FeedbackWriter> logger)
    {
        _connectionString = settings.ConnectionString;
        _synchronous = settings.Synchronous;
        _busyTimeoutMs = settings.BusyTimeoutMs;
        _health = health;
        _alerts = alerts;
        _signal = signal;
        _logger = logger;
    }

    /// <summary>Queues a write and completes when it is committed (or refused).</summary>
    /// <exception cref="StoreUnavailableException">The store cannot take writes now.</exception>
    public async Task<WriteResult> WriteAsync(NewFeedback item, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(item);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return (WriteResult)(await pending.Task)!;
    }

    /// <summary>Writes many messages in one transaction: all are committed, or none.</summary>
    public async Task<IReadOnlyList<WriteResult>> WriteBatchAsync(IReadOnlyList<NewFeedback> items, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(new NewFeedbackBatch(items));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return (IReadOnlyList<WriteResult>)(await pending.Task)!;
    }

    /// <summary>Applies a revision; false when the row was no longer provisional (already revised).</summary>
    public async Task<bool> ReviseAsync(Revision revision, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(revision);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return (bool)(await pending.Task)!;
    }

    /// <summary>Commits a tiny heartbeat row, proving the store takes writes now.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(null);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        try
        {
            await pending.Task.WaitAsync(cancellationToken);
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Finish what was accepted before stopping: every queued request gets its answer.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _statements?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var batch = new List<PendingWrite>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            await LetArrivalsQueueAsync(reader);
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            Commit(batch);
            batch.Clear();
        }

        _statements?.Dispose();
        _statements = null;
    }

    /// <summary>
    /// Before a commit starts, lets the work already waiting for the thread pool run first, for as long as it keeps adding
    /// writes to the queue (at most <see cref="MaxYields"/> turns): under load those are requests about to be written, and
    /// each that joins this commit shares its WAL pages and its fsync instead of paying for the next one. A commit writes the
    /// B-tree pages it touched once however many rows went in, so larger commits cost less per row: with the bench's load
    /// on one core, rows per commit went from 26-28 to 28-31 at 64 connections and from 7 to 9 at 16. With nothing else
    /// waiting it costs one turn of the thread pool.
    /// </summary>
    private static async ValueTask LetArrivalsQueueAsync(ChannelReader<PendingWrite> reader)
    {
        for (var turn = 0; turn < MaxYields && reader.Count < MaxBatch; turn++)
        {
            var queued = reader.Count;
            await Task.Yield();
            if (reader.Count == queued)
            {
                return;
            }
        }
    }

    private void Commit(List<PendingWrite> batch)
    {
        try
        {
            var results = CommitOnce(batch);

            // Only the writes that matter (messages, probes) speak for the store: a small bookkeeping update
            // can still fit on a disk that refuses messages.
            if (batch.Exists(p => p.Operation is NewFeedback or NewFeedbackBatch or null))
            {
                _health.RecordSuccess();
            }

            if (_statements?.TakeAlertsWritten() == true)
            {
                _signal.Notify();
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].TrySetResult(results[i]);
            }
        }
        catch (SqliteException exception) when (StoreUnavailableException.IsStoreFault(exception))
        {
            var reason = StoreUnavailableException.Describe(exception);
            LogStoreUnavailable(_logger, reason, exception.SqliteErrorCode);
            _health.RecordFailure(reason);
            ResetConnection();
            var failure = new StoreUnavailableException(reason, exception);
            foreach (var pending in batch)
            {
                pending.TrySetException(failure);
            }
        }
        catch (Exception exception) when (batch.Count > 1)
        {
            // One bad row must not fail the others: commit them one by one to find it.
            LogBatchRetried(_logger, batch.Count, exception);
            ResetConnection();
            foreach (var pending in batch)
            {
                Commit([pending]);
            }
        }
        catch (Exception exception)
        {
            LogWriteFailed(_logger, exception);
            ResetConnection();
            batch[0].TrySetException(exception);
        }
    }

    private object?[] CommitOnce(List<PendingWrite> batch)
    {
        var statements = _statements ??= Statements.Open(_connectionString, _synchronous, _busyTimeoutMs, _alerts);
        var results = new object?[batch.Count];
        // A failure anywhere below drops the connection (every catch in Commit resets it), which rolls the transaction back.
        statements.Begin();
        Dictionary<string, FeedbackRecord>? keysInBatch = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var operation = batch[i].Operation;
            if (operation is Revision revision)
            {
                results[i] = statements.Revise(revision);
                continue;
            }

            results[i] = operation switch
            {
                NewFeedback item => Insert(item),
                NewFeedbackBatch many => many.Items.Select(Insert).ToList(),
                DeliveryAttempt attempt => statements.RecordAttempt(attempt),
                GroupResolution resolution => statements.ResolveGroup(resolution),
                TopicSpike spike => statements.RaiseSpike(spike),
                _ => statements.Heartbeat(DateTime.UtcNow),
            };
        }

        statements.Commit();
        return results;

        WriteResult Insert(NewFeedback item)
        {
            var record = item.Record;
            if (record.IdempotencyKey is { } key)
            {
                var earlier = keysInBatch?.GetValueOrDefault(key) ?? statements.FindByIdempotencyKey(key);
                if (earlier is not null)
                {
                    var outcome = earlier.RequestHash == record.RequestHash ? WriteOutcome.Replayed : WriteOutcome.KeyReused;
                    return new WriteResult(outcome, earlier);
                }

                (keysInBatch ??= new Dictionary<string, FeedbackRecord>(StringComparer.Ordinal))[key] = record;
            }

            record.Id = statements.InsertFeedback(record);
            if (item.RaiseAlert)
            {
                statements.InsertAlert(record, item.Group);
            }

            return new WriteResult(WriteOutcome.Created, record);
        }
    }

    private void ResetConnection()
    {
        _statements?.Dispose();
        _statements = null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Store unavailable: {Reason} (SQLite code {Code})")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason, int code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group commit of {Count} writes failed; committing them one by one")]
    private static partial void LogBatchRetried(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A write failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception);

    /// <summary>
    /// One queued operation: a <see cref="NewFeedback"/>, a <see cref="NewFeedbackBatch"/>, a <see cref="Revision"/>, or null
    /// for a heartbeat. It is its own completion, one object per request instead of two.
    /// </summary>
    private sealed class PendingWrite(object? operation) : TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public object? Operation { get; } = operation;
    }

    /// <summary>One connection and its prepared statements, reused across batches.</summary>
    private sealed partial class Statements : IDisposable
    {
        private const string FeedbackColumns = FeedbackRowBinding.Columns;

        // Every message and heartbeat runs these: SQLite's own API, a statement prepared once per connection.
        private readonly List<RawStatement> _raw = [];
        private readonly RawStatement _insertFeedback;
        private readonly RawStatement _heartbeat;
        private readonly RawStatement _begin;
        private readonly RawStatement _commit;
        private readonly RawStatement _keyExists;

        // Replays and revisions are rare next to new messages: they keep the commands and readers they share with the PostgreSQL writer.
        private readonly SqliteCommand _findByKey;
        private readonly SqliteCommand _current;
        private readonly SqliteCommand _applyRevision;
        private readonly SqliteCommand _finalise;
        private readonly SqliteCommand _recordRevision;
        private readonly SqliteCommand _supersedeAlerts;

        private Statements(SqliteConnection connection, AlertPolicy alerts)
        {
            Connection = connection;
            _grouping = new AlertGrouping(alerts);
            try
            {
                _insertFeedback = Raw(FeedbackRowBinding.InsertSql(""));
                _heartbeat = Raw("INSERT INTO store_heartbeat (id, at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
                _begin = Raw("BEGIN IMMEDIATE");
                _commit = Raw("COMMIT");
                _keyExists = Raw("SELECT 1 FROM feedback WHERE idempotency_key = ?1");
                PrepareAlertStatements();
            }
            catch
            {
                DisposeRaw();
                throw;
            }

            _findByKey = Prepare($"SELECT id, {FeedbackColumns} FROM feedback WHERE idempotency_key = $key", ["key"]);
            _current = Prepare(
                $"SELECT {RevisedAnswer.Columns} FROM feedback WHERE id = $id",
                ["id"]);
            _applyRevision = Prepare(
                "UPDATE feedback SET sentiment = $sentiment, topic = $topic, confidence = $confidence, confidence_score = $confidence_score, " +
                "score_positive = $score_positive, score_negative = $score_negative, score_neutral = $score_neutral, score_mixed = $score_mixed, " +
                "processing_method = $processing_method, prompt_version = $prompt_version, model = $model, alert_triggered = $alert_triggered, " +
                "status = 'final' WHERE id = $id",
                ["sentiment", "topic", "confidence", "confidence_score", "score_positive", "score_negative", "score_neutral", "score_mixed",
                 "processing_method", "prompt_version", "model", "alert_triggered", "id"]);
            _finalise = Prepare("UPDATE feedback SET status = 'final' WHERE id = $id", ["id"]);
            _recordRevision = Prepare(
                "INSERT INTO feedback_revisions (feedback_id, revised_at, previous_sentiment, previous_topic, previous_confidence, previous_method, " +
                "sentiment, topic, confidence, method, prompt_version, model, reason) VALUES ($feedback_id, $revised_at, $previous_sentiment, " +
                "$previous_topic, $previous_confidence, $previous_method, $sentiment, $topic, $confidence, $method, $prompt_version, $model, $reason)",
                ["feedback_id", "revised_at", "previous_sentiment", "previous_topic", "previous_confidence", "previous_method",
                 "sentiment", "topic", "confidence", "method", "prompt_version", "model", "reason"]);
            _supersedeAlerts = Prepare("UPDATE alerts SET state = 'superseded' WHERE feedback_id = $id AND state = 'open'", ["id"]);
        }

        public SqliteConnection Connection { get; }

        public static Statements Open(string connectionString, string synchronous, int busyTimeoutMs, AlertPolicy alerts)
        {
            var builder = new SqliteConnectionStringBuilder(connectionString)
            {
                Mode = SqliteOpenMode.ReadWrite,
                Pooling = false,
                DefaultTimeout = 1,
            };
            var connection = new SqliteConnection(builder.ToString());
            try
            {
                connection.Open();
                using (var pragma = connection.CreateCommand())
                {
                    pragma.CommandText =
                        $"PRAGMA busy_timeout = {busyTimeoutMs}; PRAGMA journal_mode = WAL; " +
                        $"PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;";
                    pragma.ExecuteNonQuery();
                }

                return new Statements(connection, alerts);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Starts a group commit's transaction, taking the write lock at once. It is SQLite's own, not a SqliteTransaction:
        /// the commands below run inside it all the same (the connection has no transaction of its own to match).
        /// </summary>
        public void Begin()
        {
            _begin.Execute();
            CheckOpenGroups();
        }

        /// <summary>Writes what was held back for the end of the commit (the joined groups) and commits.</summary>
        public void Commit()
        {
            WriteJoinedGroups();
            _commit.Execute();
        }

        /// <summary>
        /// Replaces a provisional answer and re-decides its alert: a new alert when the new answer needs a person
        /// and the old did not, the old alert superseded when the new answer no longer does. False when the row is
        /// gone or no longer provisional (and the revision does not replace final answers).
        /// </summary>
        public bool Revise(Revision revision)
        {
            _current.Parameters[0].Value = revision.FeedbackId;
            RevisedAnswer? previous;
            using (var reader = _current.ExecuteReader())
            {
                previous = reader.Read() ? RevisedAnswer.Read(reader) : null;
            }

            if (previous is null || !previous.Accepts(revision))
            {
                return false;
            }

            var answer = revision.Answer;
            if (answer is null)
            {
                _finalise.Parameters[0].Value = revision.FeedbackId;
                _finalise.ExecuteNonQuery();
            }
            else
            {
                var p = _applyRevision.Parameters;
                p[0].Value = answer.Sentiment;
                p[1].Value = answer.Topic;
                p[2].Value = answer.Confidence;
                p[3].Value = answer.ConfidenceScore;
                p[4].Value = answer.ScorePositive;
                p[5].Value = answer.ScoreNegative;
                p[6].Value = answer.ScoreNeutral;
                p[7].Value = answer.ScoreMixed;
                p[8].Value = answer.ProcessingMethod;
                p[9].Value = (object?)answer.PromptVersion ?? DBNull.Value;
                p[10].Value = answer.Model;
                p[11].Value = revision.RaiseAlert;
                p[12].Value = revision.FeedbackId;
                _applyRevision.ExecuteNonQuery();

                if (revision.RaiseAlert && !previous.Alert)
                {
                    answer.Id = revision.FeedbackId;
                    answer.Text = previous.Text;
                    answer.CreatedAt = revision.At;
                    InsertAlert(answer);
                }
                else if (!revision.RaiseAlert && previous.Alert)
                {
                    _supersedeAlerts.Parameters[0].Value = revision.FeedbackId;
                    _supersedeAlerts.ExecuteNonQuery();
                }
            }

            var r = _recordRevision.Parameters;
            r[0].Value = revision.FeedbackId;
            r[1].Value = revision.At;
            r[2].Value = previous.Sentiment;
            r[3].Value = previous.Topic;
            r[4].Value = previous.Confidence;
            r[5].Value = previous.Method;
            r[6].Value = answer?.Sentiment ?? previous.Sentiment;
            r[7].Value = answer?.Topic ?? previous.Topic;
            r[8].Value = answer?.Confidence ?? previous.Confidence;
            r[9].Value = answer?.ProcessingMethod ?? previous.Method;
            r[10].Value = (object?)answer?.PromptVersion ?? DBNull.Value;
            r[11].Value = answer?.Model ?? "";
            r[12].Value = revision.Reason;
            _recordRevision.ExecuteNonQuery();
            return true;
        }

        public long InsertFeedback(FeedbackRecord r)
        {
            FeedbackRowBinding.Bind(_insertFeedback.Handle, r, ref _insertFeedback.Scratch);
            return _insertFeedback.Insert();
        }

        public FeedbackRecord? FindByIdempotencyKey(string key)
        {
            // Nearly every key is new: a probe through the raw statement answers those, and only a replay reads its row.
            if (_keyExists.Bind(1, key).ScalarInt64() is null)
            {
                return null;
            }

            _findByKey.Parameters[0].Value = key;
            using var reader = _findByKey.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return FeedbackRowBinding.Read(reader);
        }

        public object? Heartbeat(DateTime at)
        {
            _heartbeat.Bind(1, at).Execute();
            return null;
        }

        public void Dispose()
        {
            DisposeRaw();
            _findByKey.Dispose();
            _current.Dispose();
            _applyRevision.Dispose();
            _finalise.Dispose();
            _recordRevision.Dispose();
            _supersedeAlerts.Dispose();
            Connection.Dispose();
        }

        private RawStatement Raw(string sql)
        {
            var statement = RawStatement.Prepare(Connection, sql);
            _raw.Add(statement);
            return statement;
        }

        /// <summary>Finalizes the raw statements before the connection closes, which SQLite needs to close it at once.</summary>
        private void DisposeRaw()
        {
            foreach (var statement in _raw)
            {
                statement.Dispose();
            }

            _raw.Clear();
        }

        private SqliteCommand Prepare(string sql, string[] parameters)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter("$" + name, null));
            }

            return command;
        }
    }
}
