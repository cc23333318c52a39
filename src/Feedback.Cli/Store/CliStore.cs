using Feedback.Api.Alerts;
using Feedback.Api.Hosting;
using Feedback.Api.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Feedback.Cli.Store;

/// <summary>
/// The same SQLite file the API uses (DATA_DIR or DATABASE_URL, from the environment or .env), with the API's
/// own migrations applied first, so the CLI can run before the server ever has.
/// </summary>
internal static class CliStore
{
    public static ServiceSettings Settings()
    {
        var configuration = new ConfigurationBuilder()
            .Add(new DotEnvSource(Path.Combine(Directory.GetCurrentDirectory(), ".env")))
            .AddEnvironmentVariables()
            .Build();
        var settings = new ServiceSettings();
        configuration.Bind(settings);
        return settings;
    }

    /// <summary>The SQLite file the settings point at.</summary>
    public static string DatabasePath(ServiceSettings settings) =>
        Path.GetFullPath(new SqliteConnectionStringBuilder(settings.SqliteConnectionString).DataSource);

    /// <summary>Opens the store, creating it and applying pending migrations when needed.</summary>
    public static SqliteConnection Open(ServiceSettings settings) => Open(settings, readOnly: false);

    /// <summary>
    /// Opens an existing store for reading only (a dry run): nothing is created or migrated, and closing the last
    /// connection cannot checkpoint the WAL into the file, so the file is left exactly as it was.
    /// </summary>
    public static SqliteConnection OpenReadOnly(ServiceSettings settings) => Open(settings, readOnly: true);

    private static SqliteConnection Open(ServiceSettings settings, bool readOnly)
    {
        if (settings.PostgresConnectionString is not null)
        {
            // Reported like an unreachable file (message only, exit 1), rather than read as a SQLite path.
            throw new IOException(
                "DATABASE_URL names a PostgreSQL server: import, export and stats work on the SQLite file only. " +
                "Unset DATABASE_URL for a local file, or send messages through the API (POST /feedback/batch).");
        }

        var connectionString = settings.SqliteConnectionString;
        var path = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        if (readOnly)
        {
            if (!File.Exists(path))
            {
                throw new IOException($"There is no store at {Path.GetFullPath(path)} yet: nothing to read.");
            }

            var reader = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString)
            {
                Pooling = false,
                Mode = SqliteOpenMode.ReadOnly,
            }.ToString());
            reader.Open();
            using var timeout = reader.CreateCommand();
            timeout.CommandText = "PRAGMA busy_timeout = 5000;";
            timeout.ExecuteNonQuery();
            return reader;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";
            pragma.ExecuteNonQuery();
        }

        SqliteSchema.Apply(connection, connectionString);
        return connection;
    }

    /// <summary>
    /// The server's own writer on the same file, for writes that must take the server's path (alert grouping and
    /// the outbox, revisions). WAL and the writer's busy timeout let it share the file with a running server.
    /// Stop it with <see cref="StopWriterAsync"/>.
    /// </summary>
    public static async Task<FeedbackWriter> StartWriterAsync(ServiceSettings settings)
    {
        var writer = new FeedbackWriter(
            SqliteStoreSettings.From(settings), new StoreHealth(TimeProvider.System),
            new AlertPolicy(settings.AlertSettings, SeverityRules.Load(settings.AlertRulesFile)), new AlertSignal(),
            NullLogger<FeedbackWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        return writer;
    }

    /// <summary>Lets the writer finish what it was given, then closes it.</summary>
    public static async Task StopWriterAsync(FeedbackWriter writer)
    {
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();
    }
}
