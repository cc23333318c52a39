using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>eval --corrections</c> through the real CLI: the stored answers scored against people's labels, on either store.</summary>
public abstract class CliCorrectionsTests(StoreKind kind) : ImportedStoreTests(kind,
[
    "id,text",
    "a,\"I was charged twice for my subscription this month, please refund me now. Unacceptable!\"",
    "b,\"I love the new reports page, it is wonderful and so easy to use. Thank you!\"",
    "c,\"The app crashes every time I open the settings page. Please fix it.\"",
    "d,\"Could you add a dark mode to the mobile app?\"",
], "--id-column", "id")
{
    [Fact]
    public async Task Eval_corrections_scores_the_stored_answers_against_each_messages_latest_label()
    {
        // Message 1: the person agrees with the model, after an earlier label that did not (only the latest counts).
        Label(1, Other(Stored(1, "sentiment")), "general", minutes: 0);
        Label(1, Stored(1, "sentiment"), Stored(1, "topic"), minutes: 1);
        // Message 2: a different sentiment, the same topic. Message 3: the same sentiment, a different topic. Message 4: no label.
        Label(2, Other(Stored(2, "sentiment")), Stored(2, "topic"), minutes: 2);
        Label(3, Stored(3, "sentiment"), Stored(3, "topic") == "bug" ? "performance" : "bug", minutes: 3);

        var (exitCode, output) = await RunCliAsync("eval", "--corrections", "--json");
        var (textExit, text) = await RunCliAsync("eval", "--corrections");

        exitCode.ShouldBe(0, output);
        var report = JsonDocument.Parse(output).RootElement;
        report.GetProperty("labelled").GetInt32().ShouldBe(3);
        report.GetProperty("sentiment").GetProperty("accuracy").GetDouble().ShouldBe(2.0 / 3, 1e-9);
        report.GetProperty("topic").GetProperty("accuracy").GetDouble().ShouldBe(2.0 / 3, 1e-9);
        report.GetProperty("topic").GetProperty("rows").GetInt32().ShouldBe(3);
        var labelSentiments = new[] { Stored(1, "sentiment"), Other(Stored(2, "sentiment")), Stored(3, "sentiment") };
        var agreeing = Enumerable.Range(1, 3).Count(id => Alarming(labelSentiments[id - 1]) == Alert(id));
        report.GetProperty("alert").GetProperty("agreement").GetDouble().ShouldBe(agreeing / 3.0, 1e-9);
        textExit.ShouldBe(0, text);
        text.ShouldContain("3 labelled messages");
        text.ShouldContain("agreement");
    }

    [Fact]
    public async Task Eval_corrections_on_a_store_without_labels_says_so()
    {
        var (exitCode, output) = await RunCliAsync("eval", "--corrections");

        exitCode.ShouldBe(1);
        output.ShouldContain("No message in the store has a label yet");
    }

    private static string Other(string sentiment) => sentiment == "positive" ? "negative" : "positive";

    private static bool Alarming(string sentiment) => sentiment is "negative" or "mixed";

    private bool Alert(long id) => Store.Query("SELECT count(*) FROM feedback WHERE alert_triggered AND id = @id", ("id", id)) is 1L;

    private void Label(long id, string sentiment, string topic, int minutes) =>
        Store.Execute(
            "INSERT INTO labels (feedback_id, sentiment, topic, labelled_at, labelled_by) VALUES (@id, @sentiment, @topic, @at, 'reviewer')",
            ("id", id), ("sentiment", sentiment), ("topic", topic), ("at", new DateTime(2026, 12, 1, 9, minutes, 0, DateTimeKind.Utc)));

    private string Stored(long id, string column) => (string)Store.Query($"SELECT {column} FROM feedback WHERE id = @id", ("id", id))!;
}

public sealed class CliCorrectionsOnSqliteTests() : CliCorrectionsTests(StoreKind.Sqlite);

public sealed class CliCorrectionsOnPostgresTests() : CliCorrectionsTests(StoreKind.Postgres);
