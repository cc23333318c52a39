using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace Feedback.Storage;

/// <summary>
/// RETENTION_DAYS: removes messages older than the cutoff a small batch at a time, each batch one short transaction, so
/// the writers wait for the lock at most one batch long. A message goes with its revisions, labels and alert rows, and
/// its words leave the alert groups' summaries (through <see cref="CustomerErasure.RemoveMessagesAsync"/>), but its counts stay in the hourly rollups: the delete's triggers subtract it, and the
/// same transaction adds it back first, so /stats and the dashboard's history keep the hours that were purged.
/// </summary>
public static class MessageRetention
{
    /// <summary>Messages per transaction.</summary>
    public const int BatchSize = 500;

    /// <summary>Purges at most <paramref name="batchSize"/> of the oldest messages received before <paramref name="cutoff"/>; their ids.</summary>
    public static async Task<IReadOnlyList<long>> PurgeBatchAsync(DbConnection connection, DateTime cutoff, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var postgres = connection is NpgsqlConnection;
        await CustomerErasure.OverwriteDeletedAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = new List<long>();
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id FROM feedback WHERE created_at < @cutoff ORDER BY created_at, id LIMIT @limit";
            var at = select.CreateParameter();
            at.ParameterName = "@cutoff";
            at.Value = DateTime.SpecifyKind(cutoff, DateTimeKind.Utc);
            select.Parameters.Add(at);
            var limit = select.CreateParameter();
            limit.ParameterName = "@limit";
            limit.Value = batchSize;
            select.Parameters.Add(limit);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        if (ids.Count > 0)
        {
            var list = string.Join(", ", ids.Select(id => id.ToString(CultureInfo.InvariantCulture)));
            // PostgreSQL adds to the rollups and their narrower sums through one function; SQLite's triggers on
            // feedback_rollups carry the add to the narrower sums.
            const string PostgresHour = "date_trunc('hour', created_at, 'UTC')";
            await using (var keep = connection.CreateCommand())
            {
                keep.Transaction = transaction;
                keep.CommandText = postgres
                    ? $"SELECT feedback_rollups_add(array(SELECT ({PostgresHour}, sentiment, topic, processing_method, alert_triggered, count(*))::feedback_rollups " +
                      $"FROM feedback WHERE id IN ({list}) GROUP BY {PostgresHour}, sentiment, topic, processing_method, alert_triggered))"
                    : "INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count) " +
                      $"SELECT substr(created_at, 1, 13) || ':00:00', sentiment, topic, processing_method, alert_triggered, count(*) FROM feedback WHERE id IN ({list}) " +
                      "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 " +
                      "ON CONFLICT (hour, sentiment, topic, processing_method, alert_triggered) DO UPDATE SET count = feedback_rollups.count + excluded.count";
                await keep.ExecuteNonQueryAsync(cancellationToken);
            }

            // The messages go as erased ones do, and so do their words in the alert groups' summaries.
            await CustomerErasure.RemoveMessagesAsync(connection, transaction, list, ids, CustomerErasure.PurgedExcerpt, null, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return ids;
    }
}
