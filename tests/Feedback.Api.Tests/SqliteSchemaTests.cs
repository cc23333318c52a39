using Feedback.Storage;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Shouldly;
using static Feedback.Api.Tests.Infrastructure.StoreFiles;

namespace Feedback.Api.Tests;

/// <summary>
/// How the server makes or checks its SQLite file without EF Core's migrator (Storage/SqliteSchema.cs), and that the
/// result is what the migrations make.
/// </summary>
public sealed class SqliteSchemaTests : IDisposable
{
    /// <summary>Every object but EF's lock table, which only the migrator makes (and leaves behind).</summary>
    private const string Schema =
        "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || ifnull(sql, '') FROM sqlite_master WHERE name <> '__EFMigrationsLock' ORDER BY type, name";

    private const string History = "SELECT \"MigrationId\" || ' ' || \"ProductVersion\" FROM __ef_migrations_history ORDER BY 1";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-schema-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void The_schema_script_is_the_script_of_every_sqlite_migration()
    {
        using var db = Migrations(Path.Combine(_directory, "unused.db"));
        var expected = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.NoTransactions);

        var script = File.ReadAllText(Path.Combine(Repository.Root, "src", "Feedback.Storage", "schema.sql"));

        // After a new migration: write this script to src/Feedback.Storage/schema.sql (IMigrator.GenerateScript, no transactions).
        script.ReplaceLineEndings().ShouldBe(expected.ReplaceLineEndings());
    }

    [Fact]
    public void The_migrations_a_current_store_must_list_are_every_sqlite_migration()
    {
        using var db = Migrations(Path.Combine(_directory, "unused.db"));

        SqliteSchema.Migrations.ShouldBe(db.Database.GetMigrations().ToList());
    }

    [Fact]
    public async Task A_new_store_made_by_the_server_has_the_tables_indexes_and_history_the_migrations_make()
    {
        var server = Path.Combine(_directory, "server");
        await StartAndStopAsync(server);
        using (var db = Migrations(Path.Combine(_directory, "ef.db")))
        {
            db.Database.Migrate();
        }

        using var made = Open(Path.Combine(server, "feedback.db"));
        using var ef = Open(Path.Combine(_directory, "ef.db"));
        Strings(made, Schema).ShouldBe(Strings(ef, Schema));
        Strings(made, History).ShouldBe(Strings(ef, History));
        Strings(made, "SELECT name FROM sqlite_master WHERE name = '__EFMigrationsLock'").ShouldBeEmpty();
        Strings(made, "PRAGMA journal_mode").ShouldBe(["wal"]);
        Strings(made, "PRAGMA integrity_check").ShouldBe(["ok"]);
    }

    [Fact]
    public async Task The_idempotency_key_index_leaves_out_rows_without_a_key_and_serves_the_writers_lookup()
    {
        var server = Path.Combine(_directory, "server");
        await StartAndStopAsync(server);
        using var store = Open(Path.Combine(server, "feedback.db"));

        // The writer's probe for a key is answered from the index alone (the plan's detail is its fourth column).
        using (var plan = store.CreateCommand())
        {
            plan.CommandText = "EXPLAIN QUERY PLAN SELECT 1 FROM feedback WHERE idempotency_key = $key";
            plan.Parameters.AddWithValue("$key", "key:1");
            using var reader = plan.ExecuteReader();
            reader.Read().ShouldBeTrue();
            reader.GetString(3).ShouldContain("COVERING INDEX ux_feedback_idempotency_key");
        }

        // A partial index cannot list every row: SQLite finds no plan that reads the whole table through it.
        var everyRow = Should.Throw<SqliteException>(() => Strings(store, "SELECT id FROM feedback INDEXED BY ux_feedback_idempotency_key"));
        everyRow.Message.ShouldContain("no query solution");
    }

    [Fact]
    public async Task A_store_with_migrations_pending_is_migrated_at_start_and_keeps_its_rows()
    {
        var data = Path.Combine(_directory, "old");
        Directory.CreateDirectory(data);
        var path = Path.Combine(data, "feedback.db");
        using (var db = Migrations(path))
        {
            db.GetService<IMigrator>().Migrate(SqliteSchema.Migrations[0]);
        }

        using (var old = Open(path))
        {
            Execute(old,
                "INSERT INTO feedback (text, sentiment, topic, confidence, confidence_score, score_positive, score_negative, score_neutral, " +
                "score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at) VALUES " +
                "('Checkout has been broken for two days.', 'negative', 'bug', 0.9, 'high', 0.02, 0.9, 0.05, 0.03, 1, 'ml_fallback', 'en', " +
                "'local', 'final', '[]', '2026-11-20 10:00:00')");
        }

        await StartAndStopAsync(data);

        using (var db = Migrations(Path.Combine(_directory, "ef.db")))
        {
            db.Database.Migrate();
        }

        using var migrated = Open(path);
        using var ef = Open(Path.Combine(_directory, "ef.db"));
        Strings(migrated, Schema).ShouldBe(Strings(ef, Schema));
        Strings(migrated, History).ShouldBe(Strings(ef, History));
        Strings(migrated, "SELECT text FROM feedback").ShouldBe(["Checkout has been broken for two days."]);

        // The text index made by the migration covers the rows the store held before it.
        Strings(migrated, "SELECT rowid FROM feedback_search WHERE feedback_search MATCH 'checkout'").ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_current_store_is_left_as_it_is_at_the_next_start()
    {
        var data = Path.Combine(_directory, "current");
        await StartAndStopAsync(data);
        List<string> before;
        using (var store = Open(Path.Combine(data, "feedback.db")))
        {
            before = Strings(store, Schema);
        }

        await StartAndStopAsync(data);

        using var again = Open(Path.Combine(data, "feedback.db"));
        Strings(again, Schema).ShouldBe(before);
        // The migrator makes its lock table whenever it runs, even with nothing to apply.
        Strings(again, "SELECT name FROM sqlite_master WHERE name = '__EFMigrationsLock'").ShouldBeEmpty();
        Strings(again, "SELECT count(*) FROM feedback").ShouldBe(["1"]);
    }

    /// <summary>Starts the server on the folder, stores one message (so a restart has a row to keep) and stops it.</summary>
    private static async Task StartAndStopAsync(string dataDir)
    {
        using var app = new FeedbackApp(dataDir: dataDir);
        var client = app.Client();
        if (app.Scalar("SELECT count(*) FROM feedback") == 0)
        {
            var response = await client.PostFeedbackAsync(new { text = "The new dashboard is lovely and quick." });
            response.EnsureSuccessStatusCode();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>tests/X/bin/CONFIG/TFM → the repository root.</summary>
}
