using Feedback.Storage.Postgres;
using Microsoft.Extensions.Configuration;

namespace Feedback.Storage;

/// <summary>
/// Where the store is and how the SQLite file commits, under the contract's variable names: the server and the CLI
/// bind it from the same environment, so both open the same store.
/// </summary>
internal sealed class StoreSettings
{
    [ConfigurationKeyName("DATA_DIR")]
    public string DataDir { get; set; } = "./data";

    /// <summary>Named keys with scopes, one per line as NAME SCOPES sha256:HEX (API_KEYS_FILE); empty: <see cref="ApiKeysPath"/>'s default.</summary>
    [ConfigurationKeyName("API_KEYS_FILE")]
    public string? ApiKeysFile { get; set; }

    /// <summary>
    /// Where the named keys are: API_KEYS_FILE, else api-keys.txt under DATA_DIR. The server reads and the CLI's
    /// <c>key add</c> writes the same file with no setting at all, so a key works as printed.
    /// </summary>
    public string ApiKeysPath => Path.GetFullPath(string.IsNullOrWhiteSpace(ApiKeysFile) ? Path.Combine(DataDir, "api-keys.txt") : ApiKeysFile);

    [ConfigurationKeyName("DATABASE_URL")]
    public string? DatabaseUrl { get; set; }

    /// <summary>How long a write waits for a lock held by another process before the store counts as unavailable.</summary>
    [ConfigurationKeyName("SQLITE_BUSY_TIMEOUT_MS")]
    public int SqliteBusyTimeoutMs { get; set; } = 2000;

    /// <summary>NORMAL survives a process crash; FULL also survives power loss, at one fsync per group commit.</summary>
    [ConfigurationKeyName("SQLITE_SYNCHRONOUS")]
    public string SqliteSynchronous { get; set; } = "FULL";

    /// <summary>Messages older than this many days are purged in the background (their counts stay in the rollups); null keeps them forever.</summary>
    [ConfigurationKeyName("RETENTION_DAYS")]
    public int? RetentionDays { get; set; }

    /// <summary>The Npgsql connection string when DATABASE_URL names a PostgreSQL server, else null (the SQLite file).</summary>
    public string? PostgresConnectionString => PostgresUrl.TryParse(DatabaseUrl, out var connectionString, out _) ? connectionString : null;

    public string SqliteConnectionString
    {
        get
        {
            var url = DatabaseUrl?.Trim();
            if (string.IsNullOrEmpty(url))
            {
                return $"Data Source={Path.GetFullPath(Path.Combine(DataDir, "feedback.db"))}";
            }

            if (url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase))
            {
                // sqlite:///abs/path.db and sqlite://relative.db, as the Python tools spell it.
                var path = url["sqlite://".Length..];
                if (path.StartsWith("//", StringComparison.Ordinal))
                {
                    path = path[1..];
                }

                return $"Data Source={Path.GetFullPath(path)}";
            }

            return url;
        }
    }

    /// <summary>What is wrong with these settings, one message a setting, naming its variable; empty when nothing is.</summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            failures.Add("DATA_DIR must name a directory.");
        }

        if (RetentionDays is < 1 or > 36500)
        {
            failures.Add("RETENTION_DAYS must be a whole number of days from 1 to 36500, or empty to keep messages forever.");
        }

        var url = DatabaseUrl?.Trim();
        if (PostgresUrl.IsPostgres(url))
        {
            if (!PostgresUrl.TryParse(url, out _, out var error))
            {
                failures.Add($"DATABASE_URL is not a usable PostgreSQL address: {error}");
            }
        }
        else if (!string.IsNullOrEmpty(url) && !url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase)
            && !url.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add(
                "DATABASE_URL must be sqlite:///path/to/file.db, 'Data Source=path', postgres://user:password@host:port/database " +
                "or 'Host=...;Username=...;Database=...' (empty: a SQLite file under DATA_DIR).");
        }

        if (SqliteBusyTimeoutMs is < 0 or > 60_000)
        {
            failures.Add($"SQLITE_BUSY_TIMEOUT_MS must be between 0 and 60000 (got {SqliteBusyTimeoutMs}).");
        }

        if (SqliteSynchronous.Trim().ToUpperInvariant() is not ("NORMAL" or "FULL"))
        {
            failures.Add($"SQLITE_SYNCHRONOUS must be NORMAL or FULL (got '{SqliteSynchronous}').");
        }

        return failures;
    }
}
