using Feedback.Api.Storage;
using Microsoft.Data.Sqlite;

namespace Feedback.Cli.Import;

/// <summary>
/// Inserts classified rows with one prepared statement, one transaction per batch; a key already stored is skipped.
/// Rows that raise alerts take the server's writer instead (<see cref="ImportCommand"/>), which groups them and
/// queues their deliveries.
/// </summary>
internal sealed class ImportWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;

    public ImportWriter(SqliteConnection connection)
    {
        _connection = connection;
        using (var pragma = connection.CreateCommand())
        {
            // A crash loses at most the batch being written (WAL is still atomic); an fsync per batch buys nothing here.
            // The idempotency key index takes random keys, so each batch touches pages all over it: a cache that
            // holds the working set keeps SQLite from spilling (and rewriting) those pages mid-transaction.
            pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;";
            pragma.ExecuteNonQuery();
        }

        _insert = FeedbackRowBinding.CreateInsert(connection, "ON CONFLICT (idempotency_key) DO NOTHING");
    }

    /// <summary>Every key already imported, read once so that stored rows are skipped before they are classified.</summary>
    public static HashSet<string> LoadKnownKeys(SqliteConnection connection)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT idempotency_key FROM feedback WHERE idempotency_key >= $from AND idempotency_key < $to";
        command.Parameters.AddWithValue("$from", ImportCommand.KeyPrefix);
        command.Parameters.AddWithValue("$to", ImportCommand.KeyPrefix[..^1] + (char)(ImportCommand.KeyPrefix[^1] + 1));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>Writes a batch in one transaction and returns how many rows were new.</summary>
    public int Write(List<ImportCommand.PendingRow> batch)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        _insert.Transaction = transaction;
        _insert.Prepare();
        var added = 0;
        var p = _insert.Parameters;
        foreach (var pending in batch)
        {
            FeedbackRowBinding.Bind(p, pending.Record!);
            added += _insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return added;
    }

    public void Dispose() => _insert.Dispose();
}
