using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;
using Microsoft.Data.Sqlite;

namespace Feedback.Storage;

/// <summary>
/// The only writer to the SQLite file, on the shared group commit: concurrent requests share one fsync instead of
/// fighting over the write lock (SQLITE_BUSY and its 150 ms retry sleep never happen in-process).
/// </summary>
internal sealed partial class FeedbackWriter : GroupCommitWriter
{
    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly int _busyTimeoutMs;
    private readonly AlertPolicy _alerts;
    private readonly LlmBudgetAlerts _budget;
    private readonly ILogger<FeedbackWriter> _logger;
    private Statements? _statements;

    public FeedbackWriter(
        SqliteStoreSettings settings, StoreHealth health, AlertPolicy alerts, LlmPricing pricing, AlertSignal signal, ILogger<FeedbackWriter> logger)
        : base(health, signal, logger)
    {
        _connectionString = settings.ConnectionString;
        _synchronous = settings.Synchronous;
        _busyTimeoutMs = settings.BusyTimeoutMs;
        _alerts = alerts;
        _budget = new LlmBudgetAlerts(pricing);
        _logger = logger;
    }

    protected override bool WaitsForArrivals => true;

    public override void Dispose()
    {
        _statements?.Dispose();
        base.Dispose();
    }

    protected override void Stopped() => ResetConnection();

    protected override ValueTask<bool> CommitOnceAsync(IReadOnlyList<IQueuedWrite> batch)
    {
        var statements = _statements ??= Statements.Open(_connectionString, _synchronous, _busyTimeoutMs, _alerts, _budget);

        // A failure anywhere below drops the connection (every failure resets it), which rolls the transaction back.
        statements.Begin();
        Dictionary<string, FeedbackRecord>? keysInBatch = null;
        foreach (var pending in batch)
        {
            switch (pending)
            {
                case Queued<NewFeedback, WriteResult> one:
                    one.Produced(Insert(one.Operation));
                    break;
                case Queued<NewFeedbackBatch, IReadOnlyList<WriteResult>> many:
                    many.Produced(many.Operation.Items.Select(Insert).ToList());
                    break;
                case Queued<Revision, bool> revision:
                    revision.Produced(statements.Revise(revision.Operation));
                    statements.Spend(revision.Operation.Usage, revision.Operation.At);
                    break;
                case Queued<LlmSpend, bool> spend:
                    statements.Spend(spend.Operation.Usage, spend.Operation.At);
                    spend.Produced(true);
                    break;
                case Queued<NewLabel, bool> label:
                    label.Produced(statements.Label(label.Operation));
                    break;
                case Queued<DeliveryAttempt, bool> attempt:
                    attempt.Produced(statements.RecordAttempt(attempt.Operation));
                    break;
                case Queued<DeliveryRetry, int> retry:
                    retry.Produced(statements.RetryFailedDeliveries(retry.Operation));
                    break;
                case Queued<GroupResolution, bool> resolution:
                    resolution.Produced(statements.ResolveGroup(resolution.Operation));
                    break;
                case Queued<TopicSpike, bool> spike:
                    spike.Produced(statements.RaiseSpike(spike.Operation));
                    break;
                case Queued<Probe, bool> probe:
                    statements.Heartbeat(probe.Operation.At);
                    probe.Produced(true);
                    break;
            }
        }

        statements.Commit();
        return ValueTask.FromResult(statements.TakeAlertsWritten());

        WriteResult Insert(NewFeedback item)
        {
            var record = item.Record;
            statements.Spend(item.Usage, record.CreatedAt);
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

    protected override bool IsStoreFault(Exception exception) =>
        exception is SqliteException sqlite && StoreUnavailableException.IsStoreFault(sqlite);

    protected override string RecordStoreFault(Exception exception)
    {
        var sqlite = (SqliteException)exception;
        var reason = StoreUnavailableException.Describe(sqlite);
        LogStoreUnavailable(_logger, reason, sqlite.SqliteErrorCode);
        ResetConnection();
        return reason;
    }

    protected override void AfterFailedCommit() => ResetConnection();

    private void ResetConnection()
    {
        _statements?.Dispose();
        _statements = null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Store unavailable: {Reason} (SQLite code {Code})")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason, int code);

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
        private readonly SqliteCommand _insertLabel;

        private Statements(SqliteConnection connection, AlertPolicy alerts, LlmBudgetAlerts budget)
        {
            Connection = connection;
            _grouping = new AlertGrouping(alerts);
            _budget = budget;
            try
            {
                _insertFeedback = Raw(FeedbackRowBinding.InsertSql(""));
                _heartbeat = Raw("INSERT INTO store_heartbeat (id, at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
                _begin = Raw("BEGIN IMMEDIATE");
                _commit = Raw("COMMIT");
                _keyExists = Raw("SELECT 1 FROM feedback WHERE idempotency_key = ?1");
                PrepareAlertStatements();
                PrepareUsageStatements();
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
                "topic_scores = $topic_scores, embedding = coalesce($embedding, embedding), status = 'final' WHERE id = $id",
                ["sentiment", "topic", "confidence", "confidence_score", "score_positive", "score_negative", "score_neutral", "score_mixed",
                 "processing_method", "prompt_version", "model", "alert_triggered", "topic_scores", "embedding", "id"]);
            _finalise = Prepare("UPDATE feedback SET status = 'final' WHERE id = $id", ["id"]);
            _recordRevision = Prepare(
                "INSERT INTO feedback_revisions (feedback_id, revised_at, previous_sentiment, previous_topic, previous_confidence, previous_method, " +
                "sentiment, topic, confidence, method, prompt_version, model, reason) VALUES ($feedback_id, $revised_at, $previous_sentiment, " +
                "$previous_topic, $previous_confidence, $previous_method, $sentiment, $topic, $confidence, $method, $prompt_version, $model, $reason)",
                ["feedback_id", "revised_at", "previous_sentiment", "previous_topic", "previous_confidence", "previous_method",
                 "sentiment", "topic", "confidence", "method", "prompt_version", "model", "reason"]);
            _supersedeAlerts = Prepare("UPDATE alerts SET state = 'superseded' WHERE feedback_id = $id AND state = 'open'", ["id"]);
            _insertLabel = Prepare(
                "INSERT INTO labels (feedback_id, sentiment, topic, labelled_at, labelled_by) " +
                "SELECT $feedback_id, $sentiment, $topic, $labelled_at, $labelled_by WHERE EXISTS (SELECT 1 FROM feedback WHERE id = $feedback_id)",
                ["feedback_id", "sentiment", "topic", "labelled_at", "labelled_by"]);
        }

        public SqliteConnection Connection { get; }

        public static Statements Open(string connectionString, string synchronous, int busyTimeoutMs, AlertPolicy alerts, LlmBudgetAlerts budget)
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

                return new Statements(connection, alerts, budget);
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
            ForgetUsage();
            CheckOpenGroups();
        }

        /// <summary>Writes what was held back for the end of the commit (the LLM usage, the joined groups) and commits.</summary>
        public void Commit()
        {
            WriteUsage();
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
                p[12].Value = (object?)answer.TopicScores ?? DBNull.Value;
                p[13].Value = (object?)answer.Embedding ?? DBNull.Value;
                p[14].Value = revision.FeedbackId;
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

        /// <summary>Adds a label row (earlier ones stay as history); false when the message does not exist.</summary>
        public bool Label(NewLabel label)
        {
            var p = _insertLabel.Parameters;
            p[0].Value = label.FeedbackId;
            p[1].Value = label.Sentiment;
            p[2].Value = label.Topic;
            p[3].Value = label.At;
            p[4].Value = label.By;
            return _insertLabel.ExecuteNonQuery() == 1;
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

        public void Heartbeat(DateTime at) => _heartbeat.Bind(1, at).Execute();

        public void Dispose()
        {
            DisposeRaw();
            _findByKey.Dispose();
            _current.Dispose();
            _applyRevision.Dispose();
            _finalise.Dispose();
            _recordRevision.Dispose();
            _supersedeAlerts.Dispose();
            _insertLabel.Dispose();
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
