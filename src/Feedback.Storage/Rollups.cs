using System.Data.Common;
using Feedback.Analysis.Llm;
using Npgsql;
using NpgsqlTypes;

namespace Feedback.Storage;

/// <summary>
/// The SQL of <c>feedback_rollups</c>: messages counted per hour x sentiment x topic x processing method x alert, which
/// GET /stats sums instead of counting the rows of its range. On SQLite triggers keep them (migration Rollups); on
/// PostgreSQL the writer adds what it commits (<see cref="RollupDeltas"/>) and a statement trigger subtracts deletes.
/// Two narrower sums of the same counts are kept beside them (migration DailyRollups), because a month of hours holds up
/// to 720 x 144 rollup rows, and summing them grows with the keys a busy store fills: <c>feedback_rollups_daily</c> (per
/// day, every key: a month's totals and day buckets read at most 30 x 144 rows) and <c>feedback_rollups_sentiment</c>
/// (per hour x sentiment x alert: the hour series reads at most 720 x 8). On SQLite triggers on feedback_rollups keep
/// them; on PostgreSQL every change goes through one function, <c>feedback_rollups_add</c>, which upserts all three in
/// key order.
/// </summary>
internal static class RollupsSql
{
    public const string CreateTable = """
        CREATE TABLE feedback_rollups (
            hour TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            topic TEXT NOT NULL,
            processing_method TEXT NOT NULL,
            alert_triggered INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (hour, sentiment, topic, processing_method, alert_triggered)
        ) WITHOUT ROWID;
        """;

    public const string CreateTablePostgres = """
        CREATE TABLE feedback_rollups (
            hour timestamp with time zone NOT NULL,
            sentiment text NOT NULL,
            topic text NOT NULL,
            processing_method text NOT NULL,
            alert_triggered boolean NOT NULL,
            count bigint NOT NULL,
            CONSTRAINT pk_feedback_rollups PRIMARY KEY (hour, sentiment, topic, processing_method, alert_triggered)
        );
        """;

    /// <summary>
    /// The rows' counts, for a store without rollups (migration, rebuild). The hour is the first 13 characters of the
    /// stored time (its text is "yyyy-MM-dd HH:mm:ss.FFFFFFF", as Microsoft.Data.Sqlite writes a time), as the triggers cut it.
    /// </summary>
    public const string SqliteFill = """
        INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
        SELECT substr(created_at, 1, 13) || ':00:00', sentiment, topic, processing_method, alert_triggered, count(*)
        FROM feedback GROUP BY 1, 2, 3, 4, 5;
        """;

    public const string PostgresFill = """
        INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
        SELECT date_trunc('hour', created_at, 'UTC'), sentiment, topic, processing_method, alert_triggered, count(*)
        FROM feedback GROUP BY 1, 2, 3, 4, 5;
        """;

    public const string CreateDerivedTables = """
        CREATE TABLE feedback_rollups_daily (
            day TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            topic TEXT NOT NULL,
            processing_method TEXT NOT NULL,
            alert_triggered INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (day, sentiment, topic, processing_method, alert_triggered)
        ) WITHOUT ROWID;
        CREATE TABLE feedback_rollups_sentiment (
            hour TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            alert_triggered INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (hour, sentiment, alert_triggered)
        ) WITHOUT ROWID;
        """;

    public const string CreateDerivedTablesPostgres = """
        CREATE TABLE feedback_rollups_daily (
            day timestamp with time zone NOT NULL,
            sentiment text NOT NULL,
            topic text NOT NULL,
            processing_method text NOT NULL,
            alert_triggered boolean NOT NULL,
            count bigint NOT NULL,
            CONSTRAINT pk_feedback_rollups_daily PRIMARY KEY (day, sentiment, topic, processing_method, alert_triggered)
        );
        CREATE TABLE feedback_rollups_sentiment (
            hour timestamp with time zone NOT NULL,
            sentiment text NOT NULL,
            alert_triggered boolean NOT NULL,
            count bigint NOT NULL,
            CONSTRAINT pk_feedback_rollups_sentiment PRIMARY KEY (hour, sentiment, alert_triggered)
        );
        """;

    /// <summary>
    /// SQLite: whatever changes a rollup row (the feedback triggers, retention's add-back, the rebuild) moves the two
    /// narrower sums by the same amount, so no writer has to know of them.
    /// </summary>
    public const string SqliteDerivedTriggers = """
        CREATE TRIGGER feedback_rollups_derived_insert AFTER INSERT ON feedback_rollups BEGIN
            INSERT INTO feedback_rollups_daily (day, sentiment, topic, processing_method, alert_triggered, count)
            VALUES (substr(new.hour, 1, 10), new.sentiment, new.topic, new.processing_method, new.alert_triggered, new.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
            INSERT INTO feedback_rollups_sentiment (hour, sentiment, alert_triggered, count)
            VALUES (new.hour, new.sentiment, new.alert_triggered, new.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
        END;
        CREATE TRIGGER feedback_rollups_derived_update AFTER UPDATE OF count ON feedback_rollups BEGIN
            INSERT INTO feedback_rollups_daily (day, sentiment, topic, processing_method, alert_triggered, count)
            VALUES (substr(new.hour, 1, 10), new.sentiment, new.topic, new.processing_method, new.alert_triggered, new.count - old.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
            INSERT INTO feedback_rollups_sentiment (hour, sentiment, alert_triggered, count)
            VALUES (new.hour, new.sentiment, new.alert_triggered, new.count - old.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
        END;
        CREATE TRIGGER feedback_rollups_derived_delete AFTER DELETE ON feedback_rollups BEGIN
            INSERT INTO feedback_rollups_daily (day, sentiment, topic, processing_method, alert_triggered, count)
            VALUES (substr(old.hour, 1, 10), old.sentiment, old.topic, old.processing_method, old.alert_triggered, -old.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
            INSERT INTO feedback_rollups_sentiment (hour, sentiment, alert_triggered, count)
            VALUES (old.hour, old.sentiment, old.alert_triggered, -old.count)
            ON CONFLICT DO UPDATE SET count = count + excluded.count;
        END;
        """;

    /// <summary>
    /// PostgreSQL: adds signed counts to the hourly rollups and to both narrower sums, each upsert in key order (as the
    /// writer's single upsert was), so that two transactions never take rows of one table in opposite orders. The writer's
    /// per-commit deltas, the delete trigger and retention's add-back all call it.
    /// </summary>
    public const string PostgresAddFunction = """
        CREATE FUNCTION feedback_rollups_add(deltas feedback_rollups[]) RETURNS void LANGUAGE sql AS $$
            INSERT INTO feedback_rollups AS r (hour, sentiment, topic, processing_method, alert_triggered, count)
            SELECT hour, sentiment, topic, processing_method, alert_triggered, sum(count) FROM unnest(deltas)
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (hour, sentiment, topic, processing_method, alert_triggered) DO UPDATE SET count = r.count + excluded.count;
            INSERT INTO feedback_rollups_daily AS r (day, sentiment, topic, processing_method, alert_triggered, count)
            SELECT date_trunc('day', hour, 'UTC'), sentiment, topic, processing_method, alert_triggered, sum(count) FROM unnest(deltas)
            GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (day, sentiment, topic, processing_method, alert_triggered) DO UPDATE SET count = r.count + excluded.count;
            INSERT INTO feedback_rollups_sentiment AS r (hour, sentiment, alert_triggered, count)
            SELECT hour, sentiment, alert_triggered, sum(count) FROM unnest(deltas)
            GROUP BY 1, 2, 3 HAVING sum(count) <> 0 ORDER BY 1, 2, 3
            ON CONFLICT (hour, sentiment, alert_triggered) DO UPDATE SET count = r.count + excluded.count;
        $$;
        """;

    /// <summary>The delete trigger's function, subtracting the deleted rows through <c>feedback_rollups_add</c>.</summary>
    public const string PostgresDeletedFunction = """
        CREATE OR REPLACE FUNCTION feedback_rollups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM feedback_rollups_add(array(
                SELECT (date_trunc('hour', created_at, 'UTC'), sentiment, topic, processing_method, alert_triggered, -count(*))::feedback_rollups
                FROM gone GROUP BY date_trunc('hour', created_at, 'UTC'), sentiment, topic, processing_method, alert_triggered));
            RETURN NULL;
        END
        $$;
        """;

    /// <summary>
    /// SQLite: alerts counted per hour raised x state now (alert_rollups), kept by triggers on alerts in the transaction
    /// that raises, supersedes, resolves or deletes one, so /stats reads the range's hours instead of counting alerts.
    /// </summary>
    public const string SqliteAlertRollups = """
        CREATE TABLE alert_rollups (
            hour TEXT NOT NULL,
            state TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (hour, state)
        ) WITHOUT ROWID;
        CREATE TRIGGER alert_rollups_insert AFTER INSERT ON alerts BEGIN
            INSERT INTO alert_rollups (hour, state, count) VALUES (substr(new.created_at, 1, 13) || ':00:00', new.state, 1)
            ON CONFLICT DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER alert_rollups_update AFTER UPDATE OF state, created_at ON alerts
        WHEN old.state IS NOT new.state OR substr(old.created_at, 1, 13) IS NOT substr(new.created_at, 1, 13)
        BEGIN
            INSERT INTO alert_rollups (hour, state, count) VALUES (substr(old.created_at, 1, 13) || ':00:00', old.state, -1)
            ON CONFLICT DO UPDATE SET count = count - 1;
            INSERT INTO alert_rollups (hour, state, count) VALUES (substr(new.created_at, 1, 13) || ':00:00', new.state, 1)
            ON CONFLICT DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER alert_rollups_delete AFTER DELETE ON alerts BEGIN
            INSERT INTO alert_rollups (hour, state, count) VALUES (substr(old.created_at, 1, 13) || ':00:00', old.state, -1)
            ON CONFLICT DO UPDATE SET count = count - 1;
        END;
        """;

    /// <summary>
    /// PostgreSQL: the same counts, kept by row triggers on alerts that are deferred to the commit. Raising an alert
    /// locks its group first and resolving a group locks the group before its alerts, so a counter row taken at the
    /// statement would be held while the transaction goes on to lock other groups (two alerts of one commit joining
    /// two groups, a resolve of the second meanwhile): deferred, the counters are the last rows a transaction takes.
    /// </summary>
    public const string PostgresAlertRollups = """
        CREATE TABLE alert_rollups (
            hour timestamp with time zone NOT NULL,
            state text NOT NULL,
            count bigint NOT NULL,
            CONSTRAINT pk_alert_rollups PRIMARY KEY (hour, state)
        );
        CREATE FUNCTION alert_rollups_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO alert_rollups AS r (hour, state, count) VALUES (date_trunc('hour', OLD.created_at, 'UTC'), OLD.state, -1)
                ON CONFLICT (hour, state) DO UPDATE SET count = r.count - 1;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO alert_rollups AS r (hour, state, count) VALUES (date_trunc('hour', NEW.created_at, 'UTC'), NEW.state, 1)
                ON CONFLICT (hour, state) DO UPDATE SET count = r.count + 1;
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE CONSTRAINT TRIGGER alert_rollups_insert AFTER INSERT ON alerts DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION alert_rollups_count();
        CREATE CONSTRAINT TRIGGER alert_rollups_update AFTER UPDATE OF state, created_at ON alerts DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR date_trunc('hour', OLD.created_at, 'UTC') IS DISTINCT FROM date_trunc('hour', NEW.created_at, 'UTC'))
            EXECUTE FUNCTION alert_rollups_count();
        CREATE CONSTRAINT TRIGGER alert_rollups_delete AFTER DELETE ON alerts DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION alert_rollups_count();
        """;

    /// <summary>
    /// SQLite: the search index (FTS5) removes a deleted message's words from its segments at once instead of at a later
    /// merge, so erasure and retention leave no word of a message in the index (at some cost to every delete).
    /// </summary>
    public const string SqliteSearchSecureDelete = "INSERT INTO feedback_search(feedback_search, rank) VALUES('secure-delete', 1);";

    /// <summary>The alert counters counted again from the alerts (the migration's fill, and a rebuild).</summary>
    public static string AlertFillSql(bool postgres) =>
        "DELETE FROM alert_rollups; INSERT INTO alert_rollups (hour, state, count) " +
        $"SELECT {(postgres ? "date_trunc('hour', created_at, 'UTC')" : "substr(created_at, 1, 13) || ':00:00'")}, state, count(*) FROM alerts GROUP BY 1, 2;";

    /// <summary>The narrower sums counted again from the hourly rollups (the migration's fill, and the end of a rebuild).</summary>
    public static string DerivedFillSql(bool postgres) =>
        "DELETE FROM feedback_rollups_daily; DELETE FROM feedback_rollups_sentiment; " +
        "INSERT INTO feedback_rollups_daily (day, sentiment, topic, processing_method, alert_triggered, count) " +
        $"SELECT {(postgres ? "date_trunc('day', hour, 'UTC')" : "substr(hour, 1, 10)")}, sentiment, topic, processing_method, alert_triggered, sum(count) " +
        "FROM feedback_rollups GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0; " +
        "INSERT INTO feedback_rollups_sentiment (hour, sentiment, alert_triggered, count) " +
        "SELECT hour, sentiment, alert_triggered, sum(count) FROM feedback_rollups GROUP BY 1, 2, 3 HAVING sum(count) <> 0;";

    /// <summary>The rollups of the hours that still have stored messages: all of them but those only purged messages counted in.</summary>
    private const string SqliteClearCountable =
        "DELETE FROM feedback_rollups WHERE hour >= (SELECT substr(min(created_at), 1, 13) || ':00:00' FROM feedback)";

    private const string PostgresClearCountable =
        "DELETE FROM feedback_rollups WHERE hour >= (SELECT date_trunc('hour', min(created_at), 'UTC') FROM feedback)";

    /// <summary>
    /// The full count the rollups must equal (the property test compares the two), in the rollups' own shape and column names: hour
    /// as text "yyyy-MM-dd HH" on both stores.
    /// </summary>
    public static string CountRowsSql(bool postgres) => postgres
        ? "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS hour, sentiment, topic, processing_method, alert_triggered, count(*) AS count " +
          "FROM feedback GROUP BY 1, 2, 3, 4, 5"
        : "SELECT substr(created_at, 1, 13) AS hour, sentiment, topic, processing_method, alert_triggered, count(*) AS count FROM feedback GROUP BY 1, 2, 3, 4, 5";

    /// <summary>The rollups without the hours and keys whose count fell to zero, in <see cref="CountRowsSql"/>'s shape.</summary>
    public static string ReadAllSql(bool postgres) => postgres
        ? "SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS hour, sentiment, topic, processing_method, alert_triggered, count " +
          "FROM feedback_rollups WHERE count <> 0"
        : "SELECT substr(hour, 1, 13) AS hour, sentiment, topic, processing_method, alert_triggered, count FROM feedback_rollups WHERE count <> 0";

    /// <summary>
    /// Counts the rollups again from the rows, in one transaction that keeps writers out meanwhile (SQLite's write lock;
    /// on PostgreSQL a SHARE lock on feedback, which lets readers through and makes writers wait): for a store whose
    /// rollups were lost or doubted. The migration fills them already; this is the repair. The hours before the oldest
    /// stored message keep their counts (messages RETENTION_DAYS purged). Returns the rows counted.
    /// </summary>
    public static async Task<long> RebuildAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var postgres = connection is NpgsqlConnection;
        if (!postgres)
        {
            // SQLite: BEGIN IMMEDIATE takes the write lock at once, so no writer commits between the delete and the fill.
            await ExecuteAsync(connection, null, "BEGIN IMMEDIATE", cancellationToken);
        }

        await using var transaction = postgres ? await connection.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            if (postgres)
            {
                await ExecuteAsync(connection, transaction, "LOCK TABLE feedback IN SHARE MODE", cancellationToken);
            }

            // Hours before the oldest stored message hold only messages RETENTION_DAYS purged (their counts were kept on
            // purpose, so history charts survive): they have no rows to count again from, so they are kept as they are.
            await ExecuteAsync(connection, transaction, postgres ? PostgresClearCountable : SqliteClearCountable, cancellationToken);
            await ExecuteAsync(connection, transaction, postgres ? PostgresFill : SqliteFill, cancellationToken);

            // The narrower sums are counted again from the hourly ones, and the alert counters from the alerts, so a
            // rebuild repairs them too.
            await ExecuteAsync(connection, transaction, DerivedFillSql(postgres), cancellationToken);
            await ExecuteAsync(connection, transaction, AlertFillSql(postgres), cancellationToken);
            await using var count = connection.CreateCommand();
            count.Transaction = transaction;
            count.CommandText = "SELECT count(*) FROM feedback";
            var rows = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken);
            }
            else
            {
                await ExecuteAsync(connection, null, "COMMIT", cancellationToken);
            }

            return rows;
        }
        catch when (!postgres)
        {
            await ExecuteAsync(connection, null, "ROLLBACK", CancellationToken.None);
            throw;
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>One rollup row's key: the hour (UTC) and the labels a message is counted under.</summary>
internal readonly record struct RollupKey(DateTime Hour, string Sentiment, string Topic, string Method, bool Alert)
{
    public static RollupKey Of(DateTime createdAt, string sentiment, string topic, string method, bool alert) =>
        new(LlmPricing.HourOf(createdAt), sentiment, topic, method, alert);
}

/// <summary>
/// A PostgreSQL commit's changes to the rollups, held in memory and written as one statement at its end
/// (<see cref="AddTo"/>): one upsert per hour and key however many rows the commit carries, in key order (the same
/// order as the delete trigger's, both through feedback_rollups_add), so two commits in flight never take two rollup rows in opposite orders. A message
/// inserted under an idempotency key in a batch whose inserts are not yet answered is counted only if this transaction
/// inserted its row (the key's row carries this transaction's id); its key is given once, for its first message.
/// </summary>
internal sealed class RollupDeltas
{
    /// <summary>feedback_rollups_add sums, orders and upserts the deltas into the hourly rollups and their narrower sums.</summary>
    private const string UpsertSql =
        "SELECT feedback_rollups_add(array(SELECT (hour, sentiment, topic, method, alert, n)::feedback_rollups " +
        "FROM unnest($1, $2, $3, $4, $5, $6, $7) AS u(hour, sentiment, topic, method, alert, n, key) " +
        "WHERE key IS NULL OR EXISTS (SELECT 1 FROM feedback f WHERE f.idempotency_key = u.key AND f.xmin = pg_current_xact_id()::xid)))";

    private readonly Dictionary<RollupKey, long> _counted = [];
    private readonly List<(RollupKey Key, string IdempotencyKey)> _ifInserted = [];
    private HashSet<string>? _keysSeen;

    public bool IsEmpty => _counted.Count == 0 && _ifInserted.Count == 0;

    /// <summary>A row this commit surely inserted (or, negative, removed from a key).</summary>
    public void Add(RollupKey key, long count)
    {
        _counted[key] = _counted.GetValueOrDefault(key) + count;
    }

    public void Add(FeedbackRecord r) => Add(RollupKey.Of(r.CreatedAt, r.Sentiment, r.Topic, r.ProcessingMethod, r.AlertTriggered), 1);

    /// <summary>A message whose insert may have met its key taken (ON CONFLICT DO NOTHING), in the same batch as this upsert.</summary>
    public void AddIfInserted(FeedbackRecord r)
    {
        if (r.IdempotencyKey is not { } idempotencyKey)
        {
            Add(r);
            return;
        }

        // The second message of a batch under one key never inserts: the first did, or the key was taken before.
        if ((_keysSeen ??= new HashSet<string>(StringComparer.Ordinal)).Add(idempotencyKey))
        {
            _ifInserted.Add((RollupKey.Of(r.CreatedAt, r.Sentiment, r.Topic, r.ProcessingMethod, r.AlertTriggered), idempotencyKey));
        }
    }

    /// <summary>Appends the upsert to <paramref name="batch"/> and forgets the deltas; nothing when there are none.</summary>
    public void AddTo(NpgsqlBatch batch)
    {
        if (Command() is { } command)
        {
            batch.BatchCommands.Add(command);
        }
    }

    /// <summary>The upsert as a command of its own on the connection, for a commit that sends statements one by one.</summary>
    public async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        if (Command() is not { } one)
        {
            return;
        }

        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { one } };
        await batch.ExecuteNonQueryAsync();
    }

    private NpgsqlBatchCommand? Command()
    {
        var rows = _counted.Where(c => c.Value != 0).Select(c => (c.Key, Count: c.Value, IdempotencyKey: (string?)null))
            .Concat(_ifInserted.Select(i => (i.Key, Count: 1L, IdempotencyKey: (string?)i.IdempotencyKey)))
            .ToList();
        _counted.Clear();
        _ifInserted.Clear();
        _keysSeen?.Clear();
        if (rows.Count == 0)
        {
            return null;
        }

        var command = new NpgsqlBatchCommand(UpsertSql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<DateTime[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, TypedValue = [.. rows.Select(r => DateTime.SpecifyKind(r.Key.Hour, DateTimeKind.Utc))] });
        p.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = [.. rows.Select(r => r.Key.Sentiment)] });
        p.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = [.. rows.Select(r => r.Key.Topic)] });
        p.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = [.. rows.Select(r => r.Key.Method)] });
        p.Add(new NpgsqlParameter<bool[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Boolean, TypedValue = [.. rows.Select(r => r.Key.Alert)] });
        p.Add(new NpgsqlParameter<long[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = [.. rows.Select(r => r.Count)] });
        p.Add(new NpgsqlParameter<string?[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = [.. rows.Select(r => r.IdempotencyKey)] });
        return command;
    }
}
