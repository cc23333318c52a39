using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Feedback.Analysis;
using Feedback.Analysis.Local;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>import</c> through the real CLI on a temporary DATA_DIR, or on PostgreSQL through DATABASE_URL.</summary>
public abstract class CliImportTests : IDisposable
{
    private const string Charged = "I was charged twice for my plan this month, please refund me now. Unacceptable!";
    private const string ChargedAgain = "I was charged twice for my plan this month!! Please refund me now, unacceptable.";
    private const string Love = "I love the new reports page, it is wonderful and so easy to use. Thank you!";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-import-").FullName;
    private readonly CliStore _store;

    protected CliImportTests(StoreKind store) => _store = new CliStore(store, _directory);

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
        GC.SuppressFinalize(this);
    }

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
    public async Task With_the_deep_classifier_every_row_is_answered_by_it_and_fast_keeps_the_lexical_model()
    {
        var texts = Enumerable.Range(1, 70).Select(i => i % 2 == 0 ? $"{Charged} (order {i})" : $"{Love} (order {i})").ToList();
        var deep = WriteCsv(texts.Select((t, i) => $"d{i + 1},\"{t}\""), "deep.csv");
        var fast = WriteCsv(texts.Select((t, i) => $"f{i + 1},\"{t}\""), "fast.csv");

        var (deepExit, deepOutput) = await ImportAsync(deep, "--id-column", "id", "--classifier", "deep");
        var (fastExit, fastOutput) = await ImportAsync(fast, "--id-column", "id", "--classifier", "fast");

        deepExit.ShouldBe(0, deepOutput);
        fastExit.ShouldBe(0, fastOutput);
        Query($"SELECT count(*) FROM feedback WHERE model = '{Feedback.Analysis.Deep.DeepHeads.Default.Version}' AND idempotency_key LIKE 'import:%'").ShouldBe(70L);
        Query($"SELECT count(*) FROM feedback WHERE model = '{LocalClassifier.CurrentVersion}'").ShouldBe(70L);
        Query("SELECT count(*) FROM feedback WHERE sentiment = 'negative' AND topic = 'billing'").ShouldBe(70L);
    }

    [Fact]
    public async Task An_unknown_classifier_is_refused_naming_the_choices()
    {
        var csv = WriteCsv([$"a,\"{Love}\""]);

        var (exitCode, output) = await ImportAsync(csv, "--id-column", "id", "--classifier", "huge");

        exitCode.ShouldBe(2, output);
        output.ShouldContain("--classifier is deep");
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

    [Fact]
    public async Task Rows_classified_in_parallel_chunks_are_stored_once_each_in_file_order_with_their_own_labels()
    {
        // Several chunks of rows and transactions that end mid-chunk: every row must get its own text's answer.
        string[] templates =
        [
            "Ticket {0}: the app crashes every time I open the settings page.",
            "Ticket {0}: I love the new dashboard, it is fast and beautiful.",
            "Ticket {0}: please add an option to export reports as CSV.",
            "Ticket {0}: I was charged twice this month and want a refund.",
            "Ticket {0}: the editor is great but syncing keeps failing.",
        ];
        var texts = Enumerable.Range(1, 1300).Select(i => string.Format(CultureInfo.InvariantCulture, templates[i * 7 % templates.Length], i)).ToList();
        var csv = WriteCsv(texts.Select((t, i) => $"r{i + 1},\"{t}\""));

        var (exitCode, output) = await ImportAsync(csv, "--id-column", "id", "--batch", "300");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("1,300 rows read, 1,300 added, 0 already stored");
        var stored = Labels();
        stored.Select(r => r.Text).ShouldBe(texts);
        var analyzer = new Analyzer(new LocalClassifier(), new ClassificationCache(0, TimeSpan.Zero, TimeProvider.System));
        foreach (var row in stored)
        {
            var expected = analyzer.Analyze(row.Text).Classification;
            (row.Sentiment, row.Topic, row.Positive, row.Negative).ShouldBe(
                (WireNames.Of(expected.Sentiment), WireNames.Of(expected.Topic), expected.Scores.Positive, expected.Scores.Negative), row.Text);
        }

        stored.Select(r => r.Sentiment).Distinct().Count().ShouldBeGreaterThan(1);
    }

    [Fact]
    public async Task An_import_cut_short_is_carried_on_by_the_next_run_without_duplicates()
    {
        var texts = Enumerable.Range(1, 900).Select(i => $"Row {i}: search results load slowly on the mobile app.").ToList();
        var rows = texts.Select((t, i) => $"r{i + 1},\"{t}\"").ToList();
        var firstPart = WriteCsv(rows.Take(610), "part.csv");
        var whole = WriteCsv(rows);

        var (partExit, part) = await ImportAsync(firstPart, "--id-column", "id");
        var (exitCode, output) = await ImportAsync(whole, "--id-column", "id", "--batch", "100");

        partExit.ShouldBe(0, part);
        exitCode.ShouldBe(0, output);
        output.ShouldContain("900 rows read, 290 added, 610 already stored");
        Texts().ShouldBe(texts);
    }

    [Fact]
    public async Task Stored_keys_are_the_hash_of_the_id_or_of_the_content_as_earlier_imports_wrote_them()
    {
        // A key format that drifted would import a store's rows a second time.
        var byId = WriteCsv([$"t-1,\"{Love}\""], "by-id.csv");
        var byContent = Path.Combine(_directory, "by-content.csv");
        File.WriteAllLines(byContent, ["text,source", $"\"{Charged}\",email"]);

        (await ImportAsync(byId, "--id-column", "id")).ExitCode.ShouldBe(0);
        (await ImportAsync(byContent)).ExitCode.ShouldBe(0);

        Query("SELECT idempotency_key FROM feedback WHERE id = 1").ShouldBe("import:" + Sha256Hex("id\nt-1"));
        Query("SELECT idempotency_key FROM feedback WHERE id = 2").ShouldBe("import:" + Sha256Hex($"content\n{Charged}\nemail\n"));
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task A_semicolon_file_with_a_byte_order_mark_and_a_quoted_line_break_is_read_without_being_told()
    {
        var path = Path.Combine(_directory, "semicolons.csv");
        File.WriteAllText(path, $"id;text;source\n1;\"{Charged}\nSecond line; still the same message.\";email\n2;{Love};app_store\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        File.ReadAllBytes(path)[..3].ShouldBe(new byte[] { 0xEF, 0xBB, 0xBF });

        var (exitCode, output) = await ImportAsync(path, "--id-column", "id");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("2 rows read, 2 added");
        Texts().ShouldBe([$"{Charged}\nSecond line; still the same message.", Love]);
        Query("SELECT source FROM feedback ORDER BY id LIMIT 1").ShouldBe("email");
    }

    [Fact]
    public async Task The_delimiter_option_reads_a_tab_separated_file()
    {
        var path = Path.Combine(_directory, "tabs.tsv");
        File.WriteAllText(path, $"id\ttext\nt1\t{Charged}\n");

        var (exitCode, output) = await ImportAsync(path, "--id-column", "id", "--delimiter", "\t");

        exitCode.ShouldBe(0, output);
        Texts().ShouldBe([Charged]);
    }

    [Fact]
    public async Task A_bad_value_is_reported_with_its_record_and_the_line_it_starts_on()
    {
        var path = Path.Combine(_directory, "bad.csv");
        File.WriteAllText(path, $"id,text,received\n1,\"{Love}\nwith a second line\",2026-11-20\n2,\"{Charged}\",not a date\n");

        var (exitCode, output) = await ImportAsync(path, "--id-column", "id", "--time-column", "received");

        exitCode.ShouldBe(1, output);
        output.ShouldContain("record 2 (line 4): 'not a date' is not a date or time.");
        output.ShouldNotContain("   at ");
    }

    private string WriteCsv(IEnumerable<string> rows, string name = "in.csv")
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, ["id,text", .. rows]);
        return path;
    }

    private List<(string Text, string Sentiment, string Topic, double Positive, double Negative)> Labels()
    {
        using var connection = _store.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT text, sentiment, topic, score_positive, score_negative FROM feedback ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string, string, double, double)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetDouble(3), reader.GetDouble(4)));
        }

        return rows;
    }

    private Task<(int ExitCode, string Output)> ImportAsync(string csv, params string[] options) =>
        CliProcess.RunAsync(_directory, _store.Environment, ["import", csv, .. options]);

    private List<string> Texts()
    {
        using var connection = _store.Open();
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

    private object? Query(string sql) => _store.Query(sql);
}

public sealed class CliImportOnSqliteTests() : CliImportTests(StoreKind.Sqlite);

public sealed class CliImportOnPostgresTests() : CliImportTests(StoreKind.Postgres);
