using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Storage;

internal sealed record SqliteStoreSettings(string ConnectionString, string Synchronous, int BusyTimeoutMs)
{
    public static SqliteStoreSettings From(StoreSettings settings) => new(
        settings.SqliteConnectionString,
        settings.SqliteSynchronous.Trim().ToUpperInvariant(),
        settings.SqliteBusyTimeoutMs);
}

internal static class SqliteStore
{
    public static IServiceCollection AddSqliteStore(this IServiceCollection services, StoreSettings settings)
    {
        var store = SqliteStoreSettings.From(settings);
        services.AddSingleton(store);
        services.AddSingleton<StoreHealth>();
        services.AddSingleton<FeedbackWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<FeedbackWriter>());
        services.AddSingleton<IFeedbackStore>(sp => sp.GetRequiredService<FeedbackWriter>());
        services.AddSingleton(sp => sp.GetRequiredService<FeedbackWriter>().Changes);
        services.AddSingleton<SqliteReadConnections>();
        services.AddSingleton<IWorkClaims, SqliteWorkClaims>();
        services.AddSingleton<IBackgroundReads, SqliteBackgroundReads>();
        services.AddDbContextPool<FeedbackDb>(options => options.UseSqlite(
            ReadConnectionString(store),
            sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history")));
        return services;
    }

    /// <summary>
    /// Creates the folder and the file, switches it to WAL and brings it to the migrations' schema (EF's migrator only
    /// for a file with migrations pending: <see cref="SqliteSchema"/>).
    /// </summary>
    public static void Migrate(IServiceProvider services)
    {
        var store = services.GetRequiredService<SqliteStoreSettings>();
        var builder = new SqliteConnectionStringBuilder(store.ConnectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder(store.ConnectionString) { Pooling = false }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {store.BusyTimeoutMs};";
            pragma.ExecuteNonQuery();
        }

        SqliteSchema.Apply(connection, store.ConnectionString);
    }

    /// <summary>Reads never block on the writer in WAL mode; a short timeout keeps a broken store from hanging them.</summary>
    public static string ReadConnectionString(SqliteStoreSettings store) =>
        new SqliteConnectionStringBuilder(store.ConnectionString) { DefaultTimeout = 5 }.ToString();
}
