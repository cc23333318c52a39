using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;
using Microsoft.Data.Sqlite;

namespace Feedback.Storage;

/// <summary>
/// Read connections on the SQLite file for work that runs without a request, from Microsoft.Data.Sqlite's pool. The file
/// is in WAL mode, so these reads never wait for the writer, nor it for them.
/// </summary>
internal sealed class SqliteReadConnections(SqliteStoreSettings store)
{
    private readonly string _connectionString = SqliteStore.ReadConnectionString(store);

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

/// <summary>
/// The background services' reads on the SQLite file in plain SQL: through EF Core they loaded and compiled its query
/// pipeline within seconds of every start (tens of MB of resident memory) and cost CPU on every alert sent.
/// </summary>
internal sealed class SqliteBackgroundReads(SqliteReadConnections connections) : IBackgroundReads
{
    /// <summary>As many messages as a summary lists.</summary>
    private const int MessagesPerGroup = 200;

    public async Task<int> CountPendingDeliveriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM alert_deliveries WHERE state = 'pending'";
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<DeliveryContent?> LoadDeliveryAsync(long deliveryId, long groupId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM alert_deliveries WHERE id = $id AND state = 'pending'";
        command.Parameters.AddWithValue("$id", deliveryId);
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            return null;
        }

        command.Parameters.Clear();
        command.CommandText =
            "SELECT id, kind, topic, severity, fingerprint, first_at, last_at, count, state, resolved_at, dedup_key, summary " +
            "FROM alert_groups WHERE id = $group";
        command.Parameters.AddWithValue("$group", groupId);
        AlertGroup group;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            group = new AlertGroup
            {
                Id = reader.GetInt64(0),
                Kind = reader.GetString(1),
                Topic = reader.GetString(2),
                Severity = reader.GetString(3),
                Fingerprint = reader.GetInt64(4),
                FirstAt = reader.GetDateTime(5),
                LastAt = reader.GetDateTime(6),
                Count = reader.GetInt32(7),
                State = reader.GetString(8),
                ResolvedAt = reader.IsDBNull(9) ? null : reader.GetDateTime(9),
                DedupKey = reader.IsDBNull(10) ? null : reader.GetString(10),
                Summary = reader.GetString(11),
            };
        }

        command.CommandText =
            "SELECT f.id, f.sentiment, f.topic, f.confidence, f.confidence_score FROM alerts a JOIN feedback f ON f.id = a.feedback_id " +
            $"WHERE a.group_id = $group ORDER BY a.id LIMIT {MessagesPerGroup}";
        var feedback = new List<AlertedFeedback>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                feedback.Add(new AlertedFeedback(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDouble(3), reader.GetString(4)));
            }
        }

        return new DeliveryContent(group, feedback);
    }

    public async Task<Dictionary<string, int>> CountNegativeByTopicAsync(DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // DateTime parameters are written as the same text the writer stores, so the comparison is the text's order.
        command.CommandText =
            "SELECT topic, count(*) FROM feedback " +
            "WHERE created_at >= $from AND created_at < $to AND sentiment IN ('negative', 'mixed') GROUP BY topic";
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    public async Task<long> HighestIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(id), 0) FROM feedback";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<List<long>> EmbeddedIdsAfterAsync(long afterId, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM feedback WHERE id > $after AND embedding IS NOT NULL";
        command.Parameters.AddWithValue("$after", afterId);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    public async Task<List<StoredVector>> EmbeddingsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT id, embedding FROM feedback WHERE id IN ({string.Join(", ", ids.Select((_, i) => $"$id{i}"))}) AND embedding IS NOT NULL";
        for (var i = 0; i < ids.Count; i++)
        {
            command.Parameters.AddWithValue($"$id{i}", ids[i]);
        }

        return await ReadVectorsAsync(command, cancellationToken);
    }

    public async Task<Dictionary<long, string>> TextsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        var texts = new Dictionary<long, string>();
        if (ids.Count == 0)
        {
            return texts;
        }

        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, text FROM feedback WHERE id IN ({string.Join(", ", ids.Select((_, i) => $"$id{i}"))})";
        for (var i = 0; i < ids.Count; i++)
        {
            command.Parameters.AddWithValue($"$id{i}", ids[i]);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            texts[reader.GetInt64(0)] = reader.GetString(1);
        }

        return texts;
    }

    private static async Task<List<StoredVector>> ReadVectorsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var vectors = new List<StoredVector>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            vectors.Add(new StoredVector(reader.GetInt64(0), (byte[])reader.GetValue(1)));
        }

        return vectors;
    }

    public async Task<LlmUsage> LlmUsageAsync(DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await LlmUsageReads.SumAsync(connection, from, to, cancellationToken);
    }

    public async Task<List<VectorRow>> VectorRowsSinceAsync(DateTime since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // As in CountNegativeByTopicAsync: the DateTime parameter is written as the text the writer stores.
        command.CommandText =
            "SELECT id, created_at, sentiment, topic, text, embedding FROM feedback " +
            "WHERE created_at >= $since AND embedding IS NOT NULL ORDER BY id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$since", since);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadVectorRowsAsync(command, withText: true, cancellationToken);
    }

    public async Task<List<VectorRow>> VectorRowsAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT id, created_at, sentiment, topic, NULL, embedding FROM feedback WHERE id > $after AND embedding IS NOT NULL ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadVectorRowsAsync(command, withText: false, cancellationToken);
    }

    private static async Task<List<VectorRow>> ReadVectorRowsAsync(SqliteCommand command, bool withText, CancellationToken cancellationToken)
    {
        var rows = new List<VectorRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new VectorRow(
                reader.GetInt64(0), reader.GetDateTime(1), reader.GetString(2), reader.GetString(3),
                withText ? reader.GetString(4) : null, (byte[])reader.GetValue(5)));
        }

        return rows;
    }
}
