using System.Data;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Feedback.Api.Storage;

/// <summary>A message to store, with the alert it raises when <see cref="RaiseAlert"/> is set.</summary>
internal sealed record NewFeedback(FeedbackRecord Record, bool RaiseAlert);

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
internal sealed partial class FeedbackWriter : BackgroundService
{
    private const int MaxBatch = 256;

    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(8192) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly int _busyTimeoutMs;
    private readonly StoreHealth _health;
    private readonly ILogger<FeedbackWriter> _logger;
    private Statements? _statements;

    public FeedbackWriter(SqliteStoreSettings settings, StoreHealth health, ILogger<FeedbackWriter> logger)
    {
        _connectionString = settings.ConnectionString;
        _synchronous = settings.Synchronous;
        _busyTimeoutMs = settings.BusyTimeoutMs;
        _health = health;
        _logger = logger;
    }

    /// <summary>Queues a write and completes when it is committed (or refused).</summary>
    /// <exception cref="StoreUnavailableException">The store cannot take writes now.</exception>
    public async Task<WriteResult> WriteAsync(NewFeedback item, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(item);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return (await pending.Completion.Task)!;
    }

    /// <summary>Commits a tiny heartbeat row, proving the store takes writes now.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        var pending = new PendingWrite(null);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        try
        {
            await pending.Completion.Task.WaitAsync(cancellationToken);
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

    private void Commit(List<PendingWrite> batch)
    {
        try
        {
            var results = CommitOnce(batch);
            _health.RecordSuccess();
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(results[i]);
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
                pending.Completion.TrySetException(failure);
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
            batch[0].Completion.TrySetException(exception);
        }
    }

    private WriteResult?[] CommitOnce(List<PendingWrite> batch)
    {
        var statements = _statements ??= Statements.Open(_connectionString, _synchronous, _busyTimeoutMs);
        var results = new WriteResult?[batch.Count];
        using var transaction = statements.Connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
        statements.Enlist(transaction);
        Dictionary<string, FeedbackRecord>? keysInBatch = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch[i].Item;
            if (item is null)
            {
                statements.Heartbeat(DateTime.UtcNow);
                continue;
            }

            var record = item.Record;
            if (record.IdempotencyKey is { } key)
            {
                var earlier = keysInBatch?.GetValueOrDefault(key) ?? statements.FindByIdempotencyKey(key);
                if (earlier is not null)
                {
                    var outcome = earlier.RequestHash == record.RequestHash ? WriteOutcome.Replayed : WriteOutcome.KeyReused;
                    results[i] = new WriteResult(outcome, earlier);
                    continue;
                }

                (keysInBatch ??= new Dictionary<string, FeedbackRecord>(StringComparer.Ordinal))[key] = record;
            }

            record.Id = statements.InsertFeedback(record);
            if (item.RaiseAlert)
            {
                statements.InsertAlert(record);
            }

            results[i] = new WriteResult(WriteOutcome.Created, record);
        }

        transaction.Commit();
        return results;
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

    private sealed class PendingWrite(NewFeedback? item)
    {
        public NewFeedback? Item { get; } = item;

        public TaskCompletionSource<WriteResult?> Completion { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One connection and its prepared statements, reused across batches.</summary>
    private sealed class Statements : IDisposable
    {
        private const string FeedbackColumns =
            "text, source, customer_id, metadata, sentiment, topic, confidence, confidence_score, " +
            "score_positive, score_negative, score_neutral, score_mixed, alert_triggered, processing_method, " +
            "language, prompt_version, model, status, warnings, created_at, idempotency_key, request_hash";

        private readonly SqliteCommand _insertFeedback;
        private readonly SqliteCommand _insertAlert;
        private readonly SqliteCommand _findByKey;
        private readonly SqliteCommand _heartbeat;

        private Statements(SqliteConnection connection)
        {
            Connection = connection;
            _insertFeedback = Prepare(
                $"INSERT INTO feedback ({FeedbackColumns}) VALUES (" +
                string.Join(", ", FeedbackColumns.Split(", ").Select(c => "$" + c)) + ") RETURNING id",
                FeedbackColumns.Split(", "));
            _insertAlert = Prepare(
                "INSERT INTO alerts (feedback_id, sentiment, topic, confidence, state, created_at) " +
                "VALUES ($feedback_id, $sentiment, $topic, $confidence, 'open', $created_at)",
                ["feedback_id", "sentiment", "topic", "confidence", "created_at"]);
            _findByKey = Prepare($"SELECT id, {FeedbackColumns} FROM feedback WHERE idempotency_key = $key", ["key"]);
            _heartbeat = Prepare(
                "INSERT INTO store_heartbeat (id, at) VALUES (1, $at) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                ["at"]);
        }

        public SqliteConnection Connection { get; }

        public static Statements Open(string connectionString, string synchronous, int busyTimeoutMs)
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

                return new Statements(connection);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public void Enlist(SqliteTransaction transaction)
        {
            _insertFeedback.Transaction = transaction;
            _insertAlert.Transaction = transaction;
            _findByKey.Transaction = transaction;
            _heartbeat.Transaction = transaction;
        }

        public long InsertFeedback(FeedbackRecord r)
        {
            var p = _insertFeedback.Parameters;
            p[0].Value = r.Text;
            p[1].Value = (object?)r.Source ?? DBNull.Value;
            p[2].Value = (object?)r.CustomerId ?? DBNull.Value;
            p[3].Value = (object?)r.Metadata ?? DBNull.Value;
            p[4].Value = r.Sentiment;
            p[5].Value = r.Topic;
            p[6].Value = r.Confidence;
            p[7].Value = r.ConfidenceScore;
            p[8].Value = r.ScorePositive;
            p[9].Value = r.ScoreNegative;
            p[10].Value = r.ScoreNeutral;
            p[11].Value = r.ScoreMixed;
            p[12].Value = r.AlertTriggered;
            p[13].Value = r.ProcessingMethod;
            p[14].Value = r.Language;
            p[15].Value = (object?)r.PromptVersion ?? DBNull.Value;
            p[16].Value = r.Model;
            p[17].Value = r.Status;
            p[18].Value = r.Warnings;
            p[19].Value = r.CreatedAt;
            p[20].Value = (object?)r.IdempotencyKey ?? DBNull.Value;
            p[21].Value = (object?)r.RequestHash ?? DBNull.Value;
            return (long)_insertFeedback.ExecuteScalar()!;
        }

        public void InsertAlert(FeedbackRecord r)
        {
            var p = _insertAlert.Parameters;
            p[0].Value = r.Id;
            p[1].Value = r.Sentiment;
            p[2].Value = r.Topic;
            p[3].Value = r.Confidence;
            p[4].Value = r.CreatedAt;
            _insertAlert.ExecuteNonQuery();
        }

        public FeedbackRecord? FindByIdempotencyKey(string key)
        {
            _findByKey.Parameters[0].Value = key;
            using var reader = _findByKey.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            return new FeedbackRecord
            {
                Id = reader.GetInt64(0),
                Text = reader.GetString(1),
                Source = reader.IsDBNull(2) ? null : reader.GetString(2),
                CustomerId = reader.IsDBNull(3) ? null : reader.GetString(3),
                Metadata = reader.IsDBNull(4) ? null : reader.GetString(4),
                Sentiment = reader.GetString(5),
                Topic = reader.GetString(6),
                Confidence = reader.GetDouble(7),
                ConfidenceScore = reader.GetString(8),
                ScorePositive = reader.GetDouble(9),
                ScoreNegative = reader.GetDouble(10),
                ScoreNeutral = reader.GetDouble(11),
                ScoreMixed = reader.GetDouble(12),
                AlertTriggered = reader.GetBoolean(13),
                ProcessingMethod = reader.GetString(14),
                Language = reader.GetString(15),
                PromptVersion = reader.IsDBNull(16) ? null : reader.GetString(16),
                Model = reader.GetString(17),
                Status = reader.GetString(18),
                Warnings = reader.GetString(19),
                CreatedAt = DateTime.SpecifyKind(reader.GetDateTime(20), DateTimeKind.Utc),
                IdempotencyKey = reader.IsDBNull(21) ? null : reader.GetString(21),
                RequestHash = reader.IsDBNull(22) ? null : reader.GetString(22),
            };
        }

        public void Heartbeat(DateTime at)
        {
            _heartbeat.Parameters[0].Value = at;
            _heartbeat.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _insertFeedback.Dispose();
            _insertAlert.Dispose();
            _findByKey.Dispose();
            _heartbeat.Dispose();
            Connection.Dispose();
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
