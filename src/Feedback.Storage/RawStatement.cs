using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Feedback.Storage;

/// <summary>
/// A statement driven through SQLite's own API, prepared once for the life of its connection and reset after each use:
/// for the writer's per-row statements, where a <see cref="SqliteCommand"/> spends more on finding its statements,
/// boxing and binding parameters by name and opening a data reader than SQLite spends on the row. Values are stored
/// exactly as Microsoft.Data.Sqlite stores them (text as .NET's UTF-8, <see cref="DateTime"/> as its text format,
/// bool as 0 or 1), since the EF Core reads and the other writers see the same rows. Parameters are numbered from 1.
/// A failed step throws the <see cref="SqliteException"/> a command would have thrown, with the same result code,
/// so the writer's handling of a full, read-only or damaged store is the same.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private byte[] _utf8 = new byte[256];

    private RawStatement(sqlite3 db, sqlite3_stmt statement)
    {
        _db = db;
        _statement = statement;
    }

    /// <summary>The statement, for <see cref="FeedbackRowBinding.Bind(sqlite3_stmt, FeedbackRecord, ref byte[])"/>.</summary>
    public sqlite3_stmt Handle => _statement;

    /// <summary>The scratch buffer text is encoded into before SQLite copies it.</summary>
    public ref byte[] Scratch => ref _utf8;

    /// <summary>Prepares <paramref name="sql"/> (one statement) on an open connection; SQLite keeps it as a long-lived statement.</summary>
    public static RawStatement Prepare(SqliteConnection connection, string sql)
    {
        var db = connection.Handle!;
        var result = raw.sqlite3_prepare_v3(db, sql, (uint)raw.SQLITE_PREPARE_PERSISTENT, out var statement);
        if (result != raw.SQLITE_OK || statement is null)
        {
            var error = Error(db, result);
            statement?.Dispose();
            throw error;
        }

        return new RawStatement(db, statement);
    }

    public RawStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_statement, index, value));
        return this;
    }

    public RawStatement Bind(int index, bool value) => Bind(index, value ? 1L : 0L);

    public RawStatement Bind(int index, double value)
    {
        Check(raw.sqlite3_bind_double(_statement, index, value));
        return this;
    }

    /// <summary>Text, or NULL for null.</summary>
    public RawStatement Bind(int index, string? value)
    {
        FeedbackRowBinding.BindText(_statement, index, value, ref _utf8);
        return this;
    }

    public RawStatement Bind(int index, DateTime value)
    {
        FeedbackRowBinding.BindDateTime(_statement, index, value, ref _utf8);
        return this;
    }

    /// <summary>A time, or NULL for null.</summary>
    public RawStatement Bind(int index, DateTime? value)
    {
        if (value is { } at)
        {
            return Bind(index, at);
        }

        Check(raw.sqlite3_bind_null(_statement, index));
        return this;
    }

    /// <summary>Runs a statement that returns no rows; the number of rows it inserted, updated or deleted.</summary>
    public int Execute()
    {
        var result = raw.sqlite3_step(_statement);
        if (result != raw.SQLITE_DONE)
        {
            Fail(result);
        }

        raw.sqlite3_reset(_statement);
        return raw.sqlite3_changes(_db);
    }

    /// <summary>Runs an INSERT and returns the rowid of the row it added.</summary>
    public long Insert()
    {
        Execute();
        return raw.sqlite3_last_insert_rowid(_db);
    }

    /// <summary>
    /// Steps to the first (or next) row: true when there is one to read with the column getters. The caller calls
    /// <see cref="Reset"/> when done reading, so the statement holds no read open past its use.
    /// </summary>
    public bool Step()
    {
        var result = raw.sqlite3_step(_statement);
        if (result == raw.SQLITE_ROW)
        {
            return true;
        }

        if (result != raw.SQLITE_DONE)
        {
            Fail(result);
        }

        return false;
    }

    public void Reset() => raw.sqlite3_reset(_statement);

    /// <summary>The first column of the first row as an integer, or null when there is no row; the statement is reset.</summary>
    public long? ScalarInt64()
    {
        try
        {
            return Step() ? Int64(0) : null;
        }
        finally
        {
            Reset();
        }
    }

    public long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    public double Double(int column) => raw.sqlite3_column_double(_statement, column);

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    public string Text(int column) => raw.sqlite3_column_text(_statement, column).utf8_to_string();

    /// <summary>A time stored as Microsoft.Data.Sqlite writes it, read as UTC as the writer's readers do.</summary>
    public DateTime DateTime(int column) =>
        System.DateTime.SpecifyKind(System.DateTime.Parse(Text(column), CultureInfo.InvariantCulture), DateTimeKind.Utc);

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            Fail(result);
        }
    }

    private void Fail(int result)
    {
        // The message is read before the reset, which a statement that failed mid-step needs so it does not stay active.
        var error = Error(_db, result);
        raw.sqlite3_reset(_statement);
        throw error;
    }

    /// <summary>The exception Microsoft.Data.Sqlite throws for the result code, with SQLite's message.</summary>
    private static SqliteException Error(sqlite3 db, int result) =>
        new($"SQLite Error {result}: '{raw.sqlite3_errmsg(db).utf8_to_string()}'.", result, raw.sqlite3_extended_errcode(db));
}
