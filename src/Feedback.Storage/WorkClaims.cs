using System.Globalization;
using System.Text;

namespace Feedback.Storage;

/// <summary>
/// How background work (alert deliveries, provisional answers) is taken from the store. With one process per store
/// (SQLite) a plain read is enough; with several instances on one database (PostgreSQL) each row is claimed with a
/// lease, so two instances never work on the same row and a dead instance's rows are taken over once its lease ends.
/// </summary>
internal interface IWorkClaims
{
    /// <summary>
    /// Pending deliveries due by <paramref name="now"/> to one of <paramref name="channels"/>, oldest first, claimed until
    /// now + lease; none of <paramref name="held"/>, the ones this instance has queued already.
    /// </summary>
    Task<IReadOnlyList<AlertDelivery>> ClaimDeliveriesAsync(
        IReadOnlyCollection<string> channels, IReadOnlyCollection<long> held, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Gives claimed deliveries back unsent (a full queue, a stop), so another instance need not wait for the lease.</summary>
    Task ReleaseDeliveriesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Provisional rows after <paramref name="afterId"/> that nobody holds, in id order, claimed until now + lease.</summary>
    Task<IReadOnlyList<(long Id, string Text)>> ClaimProvisionalAsync(
        long afterId, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Gives claimed provisional rows back unasked (no free LLM slot, a stop), so nobody waits for the lease.</summary>
    Task ReleaseProvisionalAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);
}

/// <summary>
/// One process owns the SQLite file, so nothing is claimed: the dispatcher and the sweeper dedupe in memory. Plain SQL on
/// a read connection, not EF Core: these reads run every few seconds whether or not anybody reads the store.
/// </summary>
internal sealed class SqliteWorkClaims(SqliteReadConnections connections) : IWorkClaims
{
    public async Task<IReadOnlyList<AlertDelivery>> ClaimDeliveriesAsync(
        IReadOnlyCollection<string> channels, IReadOnlyCollection<long> held, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        if (channels.Count == 0 || limit <= 0)
        {
            return [];
        }

        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();

        // The held ids go in as one JSON array, so the statement's text (and SQLite's parse of it) stays the same.
        var channelNames = new StringBuilder();
        var index = 0;
        foreach (var channel in channels)
        {
            var name = $"$channel{index.ToString(CultureInfo.InvariantCulture)}";
            channelNames.Append(index++ == 0 ? name : ", " + name);
            command.Parameters.AddWithValue(name, channel);
        }

        command.CommandText =
            "SELECT id, group_id, kind, channel, state, attempts, next_attempt_at, last_error, created_at, delivered_at " +
            $"FROM alert_deliveries WHERE state = 'pending' AND next_attempt_at <= $now AND channel IN ({channelNames}) " +
            "AND id NOT IN (SELECT value FROM json_each($held)) ORDER BY next_attempt_at, id LIMIT $limit";
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$held", "[" + string.Join(',', held) + "]");
        command.Parameters.AddWithValue("$limit", limit);
        var due = new List<AlertDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(new AlertDelivery
            {
                Id = reader.GetInt64(0),
                GroupId = reader.GetInt64(1),
                Kind = reader.GetString(2),
                Channel = reader.GetString(3),
                State = reader.GetString(4),
                Attempts = reader.GetInt32(5),
                NextAttemptAt = reader.GetDateTime(6),
                LastError = reader.IsDBNull(7) ? null : reader.GetString(7),
                CreatedAt = reader.GetDateTime(8),
                DeliveredAt = reader.IsDBNull(9) ? null : reader.GetDateTime(9),
            });
        }

        return due;
    }

    public Task ReleaseDeliveriesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReleaseProvisionalAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IReadOnlyList<(long Id, string Text)>> ClaimProvisionalAsync(
        long afterId, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, text FROM feedback WHERE status = 'provisional' AND id > $after ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        var rows = new List<(long Id, string Text)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return rows;
    }
}
