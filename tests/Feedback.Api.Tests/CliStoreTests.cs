using Feedback.Storage;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using static Feedback.Api.Tests.Infrastructure.StoreFiles;

namespace Feedback.Api.Tests;

/// <summary>How the CLI makes a new store without EF Core's migrator, and that the result is what the migrations make.</summary>
public sealed class CliStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_new_store_made_by_the_cli_has_the_tables_indexes_and_history_the_migrations_make()
    {
        var cliData = Path.Combine(_directory, "cli");
        var (exitCode, output) = await ImportOneRowAsync(cliData);
        using (var db = Migrations(Path.Combine(_directory, "ef.db")))
        {
            db.Database.Migrate();
        }

        exitCode.ShouldBe(0, output);
        using var cli = Open(Path.Combine(cliData, "feedback.db"));
        using var ef = Open(Path.Combine(_directory, "ef.db"));
        // EF's migrator leaves its lock table behind; the CLI's script, which never ran the migrator, has none.
        const string Schema = "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || ifnull(sql, '') FROM sqlite_master WHERE name <> '__EFMigrationsLock' ORDER BY type, name";
        Strings(cli, Schema).ShouldBe(Strings(ef, Schema));
        Strings(cli, "SELECT \"MigrationId\" || ' ' || \"ProductVersion\" FROM __ef_migrations_history ORDER BY 1")
            .ShouldBe(Strings(ef, "SELECT \"MigrationId\" || ' ' || \"ProductVersion\" FROM __ef_migrations_history ORDER BY 1"));
        Strings(cli, "SELECT name FROM sqlite_master WHERE name = '__EFMigrationsLock'").ShouldBeEmpty();
        Strings(cli, "PRAGMA integrity_check").ShouldBe(["ok"]);
    }

    [Fact]
    public async Task A_store_that_is_current_is_not_migrated_again_at_the_next_start()
    {
        var data = Path.Combine(_directory, "data");
        (await ImportOneRowAsync(data)).ExitCode.ShouldBe(0);

        var (exitCode, output) = await ImportOneRowAsync(data);

        exitCode.ShouldBe(0, output);
        output.ShouldContain("1 rows read, 0 added, 1 already stored");
        // The migrator would have made its lock table: the PostgreSQL context's migrations no longer count as missing.
        using var store = Open(Path.Combine(data, "feedback.db"));
        Strings(store, "SELECT name FROM sqlite_master WHERE name = '__EFMigrationsLock'").ShouldBeEmpty();
    }

    private Task<(int ExitCode, string Output)> ImportOneRowAsync(string dataDir)
    {
        var csv = Path.Combine(_directory, "one.csv");
        File.WriteAllLines(csv, ["id,text", "r1,\"The export to PDF fails every time since the update.\""]);
        return CliProcess.RunAsync(_directory, new Dictionary<string, string>(StringComparer.Ordinal) { ["DATA_DIR"] = dataDir }, ["import", csv, "--id-column", "id"]);
    }
}
