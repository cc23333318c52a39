using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>import</c> through the real CLI on a temporary DATA_DIR.</summary>
public sealed class CliImportTests : IDisposable
{
    private const string Charged = "I was charged twice for my plan this month, please refund me now. Unacceptable!";
    private const string ChargedAgain = "I was charged twice for my plan this month!! Please refund me now, unacceptable.";
    private const string Love = "I love the new reports page, it is wonderful and so easy to use. Thank you!";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-import-").FullName;

    private string DataDir => Path.Combine(_directory, "data");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Rows_are_stored_in_file_order_and_a_second_import_of_the_same_file_adds_nothing()
    {
        var texts = Enumerable.Range(1, 120).Select(i => $"Message number {i}: the export to PDF is slow but it works in the end.").ToList();
        var csv = WriteCsv(texts.Select((t, i) => $"r{i + 1},\"{t}\""));

        var (exitCode, output) = await ImportAsync(csv, "--id-column", "id", "--batch", "25");
        var (againExit, again) = await ImportAsync(csv, "--id-column", "id", "--batch", "25");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("120 rows read, 120 added, 0 already stored");
        againExit.ShouldBe(0, again);
        again.ShouldContain("120 rows read, 0 added, 120 already stored");
        Texts().ShouldBe(texts);
    }

    [Fact]
    public async Task With_alerts_complaints_are_grouped_and_queued_for_delivery_as_the_server_does()
    {
        var csv = WriteCsv([$"a,\"{Charged}\"", $"b,\"{ChargedAgain}\"", $"c,\"{Love}\""]);

        var (exitCode, output) = await ImportAsync(csv, "--id-column", "id", "--alerts");
        var (againExit, again) = await ImportAsync(csv, "--id-column", "id", "--alerts");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("3 rows read, 3 added");
        againExit.ShouldBe(0, again);
        again.ShouldContain("3 rows read, 0 added, 3 already stored");
        Query("SELECT count(*) FROM alert_groups").ShouldBe(1L);
        Query("SELECT count FROM alert_groups").ShouldBe(2L);
        Query("SELECT count(*) FROM alerts WHERE group_id IS NOT NULL AND state = 'open'").ShouldBe(2L);
        Query("SELECT count(*) FROM alert_deliveries WHERE channel = 'log' AND kind = 'initial'").ShouldBe(1L);
    }

    private string WriteCsv(IEnumerable<string> rows)
    {
        var path = Path.Combine(_directory, "in.csv");
        File.WriteAllLines(path, ["id,text", .. rows]);
        return path;
    }

    private Task<(int ExitCode, string Output)> ImportAsync(string csv, params string[] options) =>
        CliProcess.RunAsync(_directory, new Dictionary<string, string>(StringComparer.Ordinal) { ["DATA_DIR"] = DataDir }, ["import", csv, .. options]);

    private List<string> Texts()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT text FROM feedback ORDER BY id";
        using var reader = command.ExecuteReader();
        var texts = new List<string>();
        while (reader.Read())
        {
            texts.Add(reader.GetString(0));
        }

        return texts;
    }

    private object? Query(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(DataDir, "feedback.db")};Pooling=False");
        connection.Open();
        return connection;
    }
}
