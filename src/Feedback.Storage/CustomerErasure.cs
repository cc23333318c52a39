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

    /// <summary>Customer ids as the API accepts them (POST /feedback's customer_id).</summary>
    public const int MaxCustomerIdLength = 200;

    private const string Theirs = "SELECT id FROM feedback WHERE customer_id = @customer";

    /// <summary>Erases the customer's data; the ids of the messages that were erased, in order.</summary>
    public static async Task<IReadOnlyList<long>> EraseAsync(DbConnection connection, string customerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(customerId);
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
            string[] statements =
            [
                $"UPDATE alert_groups SET summary = @erased WHERE id IN (SELECT group_id FROM alerts WHERE group_id IS NOT NULL AND feedback_id IN ({Theirs}))",
                $"DELETE FROM alerts WHERE feedback_id IN ({Theirs})",
                $"DELETE FROM feedback_revisions WHERE feedback_id IN ({Theirs})",
                $"DELETE FROM labels WHERE feedback_id IN ({Theirs})",
                "DELETE FROM feedback WHERE customer_id = @customer",
            ];
            foreach (var sql in statements)
            {
                await using var command = Command(connection, transaction, sql, customerId);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return ids;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, string customerId)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in new[] { ("@customer", customerId), ("@erased", ErasedExcerpt) })
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
