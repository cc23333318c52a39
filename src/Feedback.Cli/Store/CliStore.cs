using System.Data.Common;
using Feedback.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Feedback.Storage.Postgres;
using Feedback.Storage.Alerts;

namespace Feedback.Cli.Store;

/// <summary>
/// The store the API uses (DATA_DIR or DATABASE_URL, from the environment or .env): the SQLite file or the PostgreSQL
/// server, with the API's own migrations applied first, so the CLI can run before the server ever has. Reads go through
/// a plain <see cref="DbConnection"/> whose SQL both databases understand; writes that must take the server's path go
/// through the server's own writer for that store.
/// </summary>
internal static class CliStore
{
    public static CliSettings Settings()
    {
        var configuration = new ConfigurationBuilder()
            .Add(new DotEnvSource(Path.Combine(Directory.GetCurrentDirectory(), ".env")))
            .AddEnvironmentVariables()
            .Build();
        var settings = new CliSettings();
        configuration.Bind(settings);
        configuration.Bind(settings.Store);
        configuration.Bind(settings.Alerts);
        configuration.Bind(settings.Llm);
        return settings;
    }

    /// <summary>Whether the store may hold rows already: a PostgreSQL server always may; a SQLite file once it exists.</summary>
    public static bool MayHoldRows(CliSettings settings) =>
        settings.Store.PostgresConnectionString is not null
        || File.Exists(Path.GetFullPath(new SqliteConnectionStringBuilder(settings.Store.SqliteConnectionString).DataSource));

    /// <summary>Opens the store, creating it and applying pending migrations when needed.</summary>
    public static DbConnection Open(CliSettings settings) => Open(settings, readOnly: false);

    /// <summary>
    /// Opens an existing store for reading only (a dry run): nothing is created or migrated, and closing the last
    /// connection to a SQLite file cannot checkpoint the WAL into it, so the file is left exactly as it was.
    /// </summary>
    public static DbConnection OpenReadOnly(CliSettings settings) => Open(settings, readOnly: true);

    /// <summary>A command with its parameters, named <c>@name</c> in the SQL as both databases take them.</summary>
    public static DbCommand Command(this DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;

            // PostgreSQL's timestamptz takes UTC times only; the SQLite file stores them as the same text either way.
            parameter.Value = value is DateTime time ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>
    /// The server's own writer on the same store, for writes that must take the server's path (alert grouping and the
    /// outbox, revisions, and every write to PostgreSQL). On the SQLite file, WAL and the writer's busy timeout let it
    /// share the file with a running server; on PostgreSQL it commits as another instance would.
    /// Stop it with <see cref="StopWriterAsync"/>.
    /// </summary>
    public static async Task<GroupCommitWriter> StartWriterAsync(CliSettings settings)
    {
        var health = new StoreHealth(CliApp.Time);
        var alerts = settings.Alerts.Policy(Analysis.Deep.DeepHeads.Default.Taxonomy);
        GroupCommitWriter writer = settings.Store.PostgresConnectionString is { } postgres
            ? new PostgresWriter(
                NpgsqlDataSource.Create(postgres), new PostgresStoreSettings(postgres, $"cli-{Environment.ProcessId}", TimeSpan.FromMilliseconds(settings.Llm.AiTimeoutMs)), health, alerts,
                settings.Llm.Pricing, new AlertSignal(), NullLogger<PostgresWriter>.Instance)
            : new FeedbackWriter(SqliteStoreSettings.From(settings.Store), health, alerts, settings.Llm.Pricing, new AlertSignal(), NullLogger<FeedbackWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        return writer;
    }

    /// <summary>Lets the writer finish what it was given, then closes it.</summary>
    public static async Task StopWriterAsync(GroupCommitWriter writer)
    {
        await writer.StopAsync(CancellationToken.None);
        writer.Dispose();
    }

    private static DbConnection Open(CliSettings settings, bool readOnly) =>
        settings.Store.PostgresConnectionString is { } postgres ? OpenPostgres(postgres, readOnly) : OpenSqlite(settings.Store.SqliteConnectionString, readOnly);

    private static NpgsqlConnection OpenPostgres(string connectionString, bool readOnly)
    {
        if (!readOnly)
        {
            // The server's migrations, under the same lock as a starting instance applies them.
            using var db = new PostgresFeedbackDb(new DbContextOptionsBuilder<PostgresFeedbackDb>()
                .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
                .Options);
            using var lockConnection = new NpgsqlConnection(connectionString);
            lockConnection.Open();
            PostgresStore.MigrateExclusively(db, lockConnection);
        }

        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return connection;
    }

    private static SqliteConnection OpenSqlite(string connectionString, bool readOnly)
    {
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
}
