using System.Data.Common;
using Feedback.Storage;
using Feedback.Cli.Store;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Feedback.Cli.Import;

/// <summary>
/// Inserts classified rows into the SQLite file in file order with one prepared statement, committing every <c>rowsPerTransaction</c>
/// rows whatever the size of the pieces it is handed; a key already stored is skipped. Rows that raise alerts take
/// the server's writer instead (<see cref="ImportCommand"/>), which groups them and queues their deliveries.
/// </summary>
internal sealed class ImportWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _insert;
    private readonly int _rowsPerTransaction;
    private SqliteTransaction? _transaction;
    private int _inTransaction;
    private byte[] _utf8 = new byte[4096];

    public ImportWriter(SqliteConnection connection, int rowsPerTransaction)
    {
        _connection = connection;
        _rowsPerTransaction = rowsPerTransaction;
        using (var pragma = connection.CreateCommand())
        {
            // A crash loses at most the batch being written (WAL is still atomic); an fsync per batch buys nothing here.
            // The idempotency key index takes random keys, so each batch touches pages all over it: a cache that
            // holds the working set keeps SQLite from spilling (and rewriting) those pages mid-transaction.
            pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;";
            pragma.ExecuteNonQuery();
        }

        // The statement is driven through SQLite's own API (FeedbackRowBinding.Bind): half the cost of an insert
        // through a SqliteCommand, on the one thread every row has to pass. The conflict target names the key index's
        // condition (it holds only rows with a key).
        var prepared = raw.sqlite3_prepare_v2(
            connection.Handle, FeedbackRowBinding.InsertSql($"ON CONFLICT (idempotency_key) WHERE {FeedbackDb.KeyedRows} DO NOTHING"), out _insert);
        SqliteException.ThrowExceptionForRC(prepared, connection.Handle);
    }

    /// <summary>Every key already imported, read once so that stored rows are skipped before they are classified.</summary>
    public static HashSet<ImportKey> LoadKnownKeys(DbConnection connection)
    {
        var keys = new HashSet<ImportKey>();
        using var command = connection.Command(
            "SELECT idempotency_key FROM feedback WHERE idempotency_key >= @from AND idempotency_key < @to",
            ("from", ImportKey.Prefix), ("to", ImportKey.Prefix[..^1] + (char)(ImportKey.Prefix[^1] + 1)));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (ImportKey.TryParse(reader.GetString(0), out var key))
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    /// <summary>Inserts the rows, committing whenever a transaction is full, and returns how many were new.</summary>
    public int Write(IReadOnlyList<ImportCommand.PendingRow> rows)
    {
        var added = 0;
        foreach (var pending in rows)
        {
            _transaction ??= _connection.BeginTransaction(deferred: false);
            FeedbackRowBinding.Bind(_insert, pending.Record!, ref _utf8);
            var stepped = raw.sqlite3_step(_insert);
            if (stepped != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(stepped, _connection.Handle);
            }

            added += raw.sqlite3_changes(_connection.Handle);
            raw.sqlite3_reset(_insert);
            if (++_inTransaction == _rowsPerTransaction)
            {
                Commit();
            }
        }

        return added;
    }

    /// <summary>Commits the rows written since the last commit.</summary>
    public void Commit()
    {
        _transaction?.Commit();
        _transaction?.Dispose();
        _transaction = null;
        _inTransaction = 0;
    }

    /// <summary>Rows not committed yet are rolled back: the next import carries on from the last commit.</summary>
    public void Dispose()
    {
        _transaction?.Dispose();
        _insert.Dispose();
    }
}
