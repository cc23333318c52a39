using Feedback.Api.Hosting;
using Feedback.Api.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;

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

    /// <summary>Opens the store, creating it and applying pending migrations when needed.</summary>
    public static SqliteConnection Open(ServiceSettings settings)
    {
        var connectionString = settings.SqliteConnectionString;
        var path = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new DbContextOptionsBuilder<FeedbackDb>()
            .UseSqlite(connectionString, sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history"))
            .Options;
        using (var db = new FeedbackDb(options))
        {
            if (db.Database.GetPendingMigrations().Any())
            {
                db.Database.Migrate();
            }
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
