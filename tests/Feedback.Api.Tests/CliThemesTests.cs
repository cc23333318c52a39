using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// <c>themes</c> through the real CLI on a temporary DATA_DIR or PostgreSQL database: three planted themes of the bench
/// set (bench/themes/set.csv), imported with their vectors, come back as three themes with their key phrases.
/// </summary>
public abstract class CliThemesTests(StoreKind store) : ImportedStoreTests(store, ["text", .. PlantedRows()])
{
    private static readonly string[] Planted = ["dark-mode", "battery-drain", "double-charge"];

    protected override IReadOnlyDictionary<string, string> Settings { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["CLASSIFIER"] = "deep", ["NO_COLOR"] = "1" };

    private static IEnumerable<string> PlantedRows() =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Themes", "set.csv"))
            .Where(line => Planted.Any(p => line.StartsWith(p + ",", StringComparison.Ordinal)))
            .Select(line => line[(line.IndexOf(',', StringComparison.Ordinal) + 1)..]);

    [Fact]
    public async Task Three_planted_themes_come_back_as_three_themes_with_their_key_phrases()
    {
        var (exitCode, output) = await RunCliAsync("themes", "--since", "7d", "--json");

        exitCode.ShouldBe(0, output);
        var body = JsonDocument.Parse(output).RootElement;
        body.GetProperty("messages").GetInt32().ShouldBe(45);
        var themes = body.GetProperty("themes").EnumerateArray().ToList();
        themes.Count.ShouldBe(3);
        themes.ShouldAllBe(t => t.GetProperty("size").GetInt32() >= 12);
        var keywords = themes.Select(t => string.Join(' ', t.GetProperty("keywords").EnumerateArray().Select(k => k.GetString()))).ToList();
        keywords.ShouldContain(k => k.Contains("dark", StringComparison.Ordinal));
        keywords.ShouldContain(k => k.Contains("battery", StringComparison.Ordinal));
        keywords.ShouldContain(k => k.Contains("charged", StringComparison.Ordinal) || k.Contains("twice", StringComparison.Ordinal));
        body.GetProperty("outlier_share").GetDouble().ShouldBeLessThanOrEqualTo(0.2);

        var (tableExit, table) = await RunCliAsync("themes", "--min-size", "100");
        tableExit.ShouldBe(0, table);
        table.ShouldContain("0 themes in 45 messages");
    }

    [Fact]
    public async Task A_since_that_is_neither_a_date_nor_a_duration_is_a_usage_error()
    {
        var (exitCode, output) = await RunCliAsync("themes", "--since", "last-tuesday");

        exitCode.ShouldBe(2, output);
        output.ShouldContain("--since");
    }
}

public sealed class CliThemesOnSqliteTests() : CliThemesTests(StoreKind.Sqlite);

public sealed class CliThemesOnPostgresTests() : CliThemesTests(StoreKind.Postgres);
