using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// <c>reindex</c> through the real CLI on a temporary DATA_DIR or PostgreSQL database: imported rows carry their
/// vectors; rows without one (stored before vectors were kept) get the vector the encoder gives them, and a second run
/// touches only the rows still without one.
/// </summary>
public abstract class CliReindexTests(StoreKind store) : ImportedStoreTests(store, ["text", .. Texts.Select(t => $"\"{t}\"")])
{
    private static readonly string[] Texts =
    [
        "The app crashes every time I open the settings page.",
        "Lovely colours in the new design, well done to the team.",
        "Please give me my money back for the duplicate payment on my card.",
        "Whenever I go into my preferences the application shuts down on me.",
        "Too short",
    ];

    /// <summary>The deep classifier, as the CLI runs by default: the import stores the vectors it classified with.</summary>
    protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLASSIFIER"] = "deep" };

    [Fact]
    public async Task Rows_stored_without_a_vector_get_the_one_the_import_gave_them_and_a_second_run_only_fills_what_is_missing()
    {
        Count("embedding IS NULL").ShouldBe(1L, "the import stores a vector with every message long enough to encode");
        var imported = Embedding(Texts[0]);
        Store.Execute("UPDATE feedback SET embedding = NULL");

        var (exitCode, output) = await RunCliAsync("reindex", "--chunk", "2");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("reindex: 4 messages given a sentence vector, 1 too short to encode");
        Embedding(Texts[0]).ShouldBe(imported);
        Count("embedding IS NULL").ShouldBe(1L);

        Store.Execute("UPDATE feedback SET embedding = NULL WHERE text = @text", ("text", Texts[3]));
        var (againExit, again) = await RunCliAsync("reindex");

        againExit.ShouldBe(0, again);
        again.ShouldContain("reindex: 1 messages given a sentence vector, 1 too short to encode");
    }

    private long Count(string condition) => Convert.ToInt64(Store.Query($"SELECT count(*) FROM feedback WHERE {condition}"), System.Globalization.CultureInfo.InvariantCulture);

    private byte[] Embedding(string text) => (byte[])Store.Query("SELECT embedding FROM feedback WHERE text = @text", ("text", text))!;
}

public sealed class CliReindexOnSqliteTests() : CliReindexTests(StoreKind.Sqlite);

public sealed class CliReindexOnPostgresTests() : CliReindexTests(StoreKind.Postgres);
