using System.Data.Common;

namespace Feedback.Storage;

/// <summary>
/// Erases one customer's data on request: their messages (and with them the search index's entries and the stored
/// sentence vectors), the messages' revisions, labels and alert rows, and the excerpt of every alert group one of their
/// messages joined. One transaction, plain SQL both stores understand, so the API and the CLI share it. Counts and alert
/// groups stay (without the excerpt); nothing of the text is logged.
/// </summary>
public static class CustomerErasure
{
    /// <summary>What an alert group shows instead of an erased customer's words.</summary>
    public const string ErasedExcerpt = "(erased at the customer's request)";

    /// <summary>What an alert group shows instead of the words of a message RETENTION_DAYS purged.</summary>
    public const string PurgedExcerpt = "(removed after the retention period)";

    /// <summary>Customer ids as the API accepts them (POST /feedback's customer_id).</summary>
    public const int MaxCustomerIdLength = 200;

    private const string Theirs = "SELECT id FROM feedback WHERE customer_id = @customer";

    /// <summary>Erases the customer's data; the ids of the messages that were erased, in order.</summary>
    public static async Task<IReadOnlyList<long>> EraseAsync(DbConnection connection, string customerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        await OverwriteDeletedAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = new List<long>();
        await using (var select = Command(connection, transaction, Theirs + " ORDER BY id", customerId))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        if (ids.Count > 0)
        {
            await RemoveMessagesAsync(connection, transaction, Theirs, ids, ErasedExcerpt, customerId, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return ids;
    }

    /// <summary>
    /// Removes the messages <paramref name="select"/> selects (a subquery, or a list of the ids <paramref name="ids"/>)
    /// with every row that hangs off them (<see cref="DeleteMessages"/>) and every copy of their words elsewhere: the
    /// summary of each alert group one of them joined (the excerpt of the message that opened it) and each line of a
    /// group's summary that quotes one of them become <paramref name="excerpt"/>. Erasure and retention
    /// (<see cref="MessageRetention"/>) both remove messages through it, so neither leaves text the other would not.
    /// </summary>
    internal static async Task RemoveMessagesAsync(
        DbConnection connection, DbTransaction transaction, string select, IReadOnlyList<long> ids, string excerpt, string? customerId, CancellationToken cancellationToken)
    {
        string[] statements =
        [
            $"UPDATE alert_groups SET summary = @excerpt WHERE id IN (SELECT group_id FROM alerts WHERE group_id IS NOT NULL AND feedback_id IN ({select}))",
            .. DeleteMessages(select),
        ];
        foreach (var sql in statements)
        {
            await using var command = Command(connection, transaction, sql, customerId, excerpt);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await EraseExamplesAsync(connection, transaction, ids, excerpt, cancellationToken);
    }

    /// <summary>
    /// SQLite: deleted rows stay readable in the file's free pages until something overwrites them, so the connection that
    /// erases or purges zeroes what it deletes (PRAGMA secure_delete; the search index drops a deleted message's words at
    /// once too, by its own secure-delete option, which the DailyRollups migration set). The connection keeps the setting,
    /// which costs only its deletes. PostgreSQL: the deleted rows' versions are removed by (auto)vacuum.
    /// </summary>
    internal static async Task OverwriteDeletedAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (connection is Microsoft.Data.Sqlite.SqliteConnection)
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA secure_delete = ON";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The statements that delete the messages <paramref name="ids"/> selects (a subquery or a list of ids) and the rows
    /// that hang off them: alert rows, revisions and labels, then the messages. Erasure and retention
    /// (<see cref="MessageRetention"/>) both delete through it, so a table added later is added here once.
    /// </summary>
    internal static string[] DeleteMessages(string ids) =>
    [
        $"DELETE FROM alerts WHERE feedback_id IN ({ids})",
        $"DELETE FROM feedback_revisions WHERE feedback_id IN ({ids})",
        $"DELETE FROM labels WHERE feedback_id IN ({ids})",
        $"DELETE FROM feedback WHERE id IN ({ids})",
    ];

    /// <summary>
    /// Groups that quote several messages (an emerging theme's, one "#id: excerpt" line each) are joined by no alert row:
    /// each line quoting an erased message keeps its id and loses its words.
    /// </summary>
    private static async Task EraseExamplesAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<long> ids, string excerpt, CancellationToken cancellationToken)
    {
        var erased = ids.ToHashSet();
        var changed = new List<(long Id, string Summary)>();
        await using (var select = Command(connection, transaction, "SELECT id, summary FROM alert_groups WHERE summary LIKE '%#%: %'", null, excerpt))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var summary = reader.GetString(1);
                var lines = summary.Split('\n');
                var touched = false;
                for (var i = 0; i < lines.Length; i++)
                {
                    if (QuotedId(lines[i]) is { } id && erased.Contains(id.Value))
                    {
                        lines[i] = lines[i][..(id.End + 2)] + excerpt;
                        touched = true;
                    }
                }

                if (touched)
                {
                    changed.Add((reader.GetInt64(0), string.Join('\n', lines)));
                }
            }
        }

        foreach (var (id, summary) in changed)
        {
            await using var update = Command(connection, transaction, "UPDATE alert_groups SET summary = @summary WHERE id = @id", null, excerpt);
            foreach (var (name, value) in new (string, object)[] { ("@summary", summary), ("@id", id) })
            {
                var parameter = update.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                update.Parameters.Add(parameter);
            }

            await update.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The message id a line quotes as "#id: ", and where its colon is; null for any other line.</summary>
    private static (long Value, int End)? QuotedId(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        var colon = hash < 0 ? -1 : line.IndexOf(": ", hash, StringComparison.Ordinal);
        return colon > hash + 1 && long.TryParse(line.AsSpan(hash + 1, colon - hash - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? (id, colon)
            : null;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, string? customerId, string excerpt = ErasedExcerpt)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in new[] { ("@customer", customerId ?? ""), ("@excerpt", excerpt) })
        {
            if (sql.Contains(name, StringComparison.Ordinal))
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }
        }

        return command;
    }
}
