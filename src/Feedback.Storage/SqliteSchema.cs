using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Storage;

/// <summary>
/// Brings a SQLite file to the schema of EF Core's migrations, which stay its one source, without loading EF Core in the
/// common cases: a file without tables gets the migrations' own script (<c>schema.sql</c>, which a test keeps equal to
/// EF's script of every migration, history rows included), a file whose history lists every migration is left alone,
/// and only an older file runs EF's migrator. The migrator's model, services and their JIT cost a fifth of the server's
/// resident memory at every start and about a CPU-second of a CLI command (bench/RESULTS.md), to find nothing to do or
/// to run this script.
/// </summary>
internal static partial class SqliteSchema
{
    private const string ResourceName = "Feedback.Storage.schema.sql";

    /// <summary>The script for a new file, read once: the server and the CLI both start here.</summary>
    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = typeof(SqliteSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource {ResourceName} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Every SQLite migration's id, taken from the script's history rows: listing them from the migration classes'
    /// attributes would load EF Core, and the script cannot lag behind a migration without its test failing.
    /// </summary>
    public static IReadOnlyList<string> Migrations { get; } = [.. HistoryRow().Matches(Script.Value).Select(m => m.Groups["id"].Value)];

    /// <summary>
    /// Makes the file behind <paramref name="connection"/> current; <paramref name="connectionString"/> is for the
    /// migrator, which opens its own connection.
    /// </summary>
    public static void Apply(SqliteConnection connection, string connectionString)
    {
        if (!IsCurrent(connection) && !(CreateNew(connection) && IsCurrent(connection)))
        {
            // An older file: its idempotency keys may predate the digests (the IdempotencyKeyDigests migration).
            IdempotencyKeyDigest.HashStoredKeys(connection);
            RunMigrator(connectionString);
        }
    }

    /// <summary>Whether every migration is listed in the history table, read with plain SQL.</summary>
    public static bool IsCurrent(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '__ef_migrations_history'";
        if ((long)command.ExecuteScalar()! == 0)
        {
            return false;
        }

        var missing = Migrations.ToHashSet(StringComparer.Ordinal);
        command.CommandText = "SELECT \"MigrationId\" FROM __ef_migrations_history";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            missing.Remove(reader.GetString(0));
        }

        return missing.Count == 0;
    }

    /// <summary>
    /// Runs the script on a file without any table, in one write transaction, so two processes starting on a new
    /// file cannot both run it. False when the file has tables already (an older store, or another process made them).
    /// </summary>
    private static bool CreateNew(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        if ((long)command.ExecuteScalar()! != 0)
        {
            return false;
        }

        command.CommandText = Script.Value;
        command.ExecuteNonQuery();
        transaction.Commit();
        return true;
    }

    /// <summary>A method of its own, so EF Core is loaded and compiled only when a file really has migrations pending.</summary>
    private static void RunMigrator(string connectionString)
    {
        var options = new DbContextOptionsBuilder<FeedbackDb>()
            .UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history"))
            .Options;
        using var db = new FeedbackDb(options);
        db.Database.Migrate();
    }

    [GeneratedRegex("""INSERT INTO "__ef_migrations_history" \("MigrationId", "ProductVersion"\)\s+VALUES \('(?<id>[^']+)'""", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex HistoryRow();
}
