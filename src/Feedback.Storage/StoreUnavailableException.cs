using Microsoft.Data.Sqlite;

namespace Feedback.Storage;

/// <summary>The store cannot take writes now (full, locked, read-only, corrupt, gone); the client should retry later.</summary>
internal sealed class StoreUnavailableException(string reason, Exception? inner = null)
    : Exception($"The store cannot accept writes: {reason}", inner)
{
    public string Reason { get; } = reason;

    /// <summary>SQLite result codes that mean the store, not the request, is at fault.</summary>
    public static bool IsStoreFault(SqliteException exception) => exception.SqliteErrorCode switch
    {
        5 => true,   // SQLITE_BUSY: another process holds the lock past our wait
        6 => true,   // SQLITE_LOCKED
        8 => true,   // SQLITE_READONLY
        10 => true,  // SQLITE_IOERR
        11 => true,  // SQLITE_CORRUPT
        13 => true,  // SQLITE_FULL
        14 => true,  // SQLITE_CANTOPEN
        15 => true,  // SQLITE_PROTOCOL
        26 => true,  // SQLITE_NOTADB
        _ => false,
    };

    public static string Describe(SqliteException exception) => exception.SqliteErrorCode switch
    {
        5 or 6 or 15 => "the database is locked by another process",
        8 => "the database is read-only",
        10 => "the disk reported an I/O error",
        11 or 26 => "the database file is damaged",
        13 => "the disk is full",
        14 => "the database file cannot be opened",
        _ => "the database reported an error",
    };
}

/// <summary>What the last writes said about the store, for /health and for the 503 decision.</summary>
internal sealed class StoreHealth(TimeProvider time)
{
    private readonly Lock _gate = new();
    private string? _failure;
    private long _checkedAt = long.MinValue;

    public string? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>
    /// What the last write said, when it is younger than <paramref name="maxAge"/>: true (it committed), false (the
    /// store refused it), or null (too old or none yet: probe). A recent refusal outweighs a probe, which may fit in
    /// space a full disk still has for small writes.
    /// </summary>
    public bool? Recent(TimeSpan maxAge)
    {
        lock (_gate)
        {
            if (_checkedAt == long.MinValue || time.GetElapsedTime(_checkedAt) >= maxAge)
            {
                return null;
            }

            return _failure is null;
        }
    }

    public void RecordSuccess()
    {
        lock (_gate)
        {
            _failure = null;
            _checkedAt = time.GetTimestamp();
        }
    }

    public void RecordFailure(string reason)
    {
        lock (_gate)
        {
            _failure = reason;
            _checkedAt = time.GetTimestamp();
        }
    }
}
