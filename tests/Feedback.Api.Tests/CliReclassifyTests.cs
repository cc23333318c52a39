using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// <c>reclassify</c> through the real CLI on a temporary DATA_DIR or PostgreSQL database: rows are imported, some are
/// given an old answer straight in the store, and reclassify must put the classifier's answer back as a revision.
/// </summary>
public abstract class CliReclassifyTests(StoreKind store) : IAsyncLifetime
{
    private const string Charged = "I was charged twice for my subscription this month, please refund me now. Unacceptable!";
    private const string Love = "I love the new reports page, it is wonderful and so easy to use. Thank you!";
    private const string Crashes = "The app crashes every time I open the export screen, terrible, I lost all my work.";

    private readonly string _directory = Directory.CreateTempSubdirectory("feedback-reclassify-").FullName;
    private CliStore _store = null!;
    private FakeOpenAiServer _llm = null!;

    public async ValueTask InitializeAsync()
    {
        _store = new CliStore(store, _directory);
        _llm = await FakeOpenAiServer.StartAsync();
        var csv = Path.Combine(_directory, "in.csv");
        File.WriteAllLines(csv,
        [
            "id,text,received",
            $"t1,\"{Charged}\",2026-11-20T10:00:00Z",
            $"t2,\"{Love}\",2026-11-20T11:00:00Z",
            $"t3,\"{Crashes}\",2026-11-10T10:00:00Z",
        ]);
        var (exitCode, output) = await RunCliAsync([], "import", csv, "--id-column", "id", "--time-column", "received");
        exitCode.ShouldBe(0, output);
    }

    public async ValueTask DisposeAsync()
    {
        await _llm.DisposeAsync();
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_row_stored_with_an_old_answer_gets_a_revision_that_keeps_both_answers_and_a_second_run_changes_nothing()
    {
        var original = Row(Charged);
        original.Alert.ShouldBeTrue("the complaint must be one the alert rule matches for this test to mean anything");
        GiveOldAnswer(Charged);
        GiveOldAnswer(Crashes);

        var (exitCode, output) = await RunCliAsync([], "reclassify", "--since", "2026-11-15", "--until", "2026-11-25", "--method", "ml");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("Reclassified 2 rows");
        output.ShouldContain("changed 1 (1 sentiment, 1 topic; alerts 1 raised, 0 withdrawn), 1 unchanged");
        var revised = Row(Charged);
        (revised.Sentiment, revised.Topic, revised.Method, revised.Alert).ShouldBe((original.Sentiment, original.Topic, "ml_fallback", true));
        var history = Revisions(revised.Id);
        history.Count.ShouldBe(1);
        history[0].ShouldStartWith($"positive/general/ai -> {original.Sentiment}/{original.Topic}/ml_fallback: reclassified with the local classifier ");
        Query($"SELECT count(*) FROM alerts WHERE feedback_id = {revised.Id} AND group_id IS NOT NULL AND state = 'open'").ShouldBe(1L);
        Row(Crashes).Sentiment.ShouldBe("positive", "a row received outside the window is left alone");
        Revisions(Row(Love).Id).ShouldBeEmpty();

        var (againExit, again) = await RunCliAsync([], "reclassify", "--since", "2026-11-15", "--until", "2026-11-25");

        againExit.ShouldBe(0, again);
        again.ShouldContain("changed 0 (0 sentiment, 0 topic; alerts 0 raised, 0 withdrawn), 2 unchanged");
        Query("SELECT count(*) FROM feedback_revisions").ShouldBe(1L);
        Query("SELECT count(*) FROM alerts").ShouldBe(1L);
    }

    [Fact]
    public async Task A_dry_run_counts_what_would_change_and_writes_nothing()
    {
        GiveOldAnswer(Charged);
        GiveOldAnswer(Crashes);
        var before = _store.Snapshot();

        var (exitCode, output) = await RunCliAsync([], "reclassify", "--since", "2026-11-01", "--until", "2026-11-25", "--dry-run");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("would change 2 (2 sentiment, 2 topic; alerts 2 raised, 0 withdrawn), 1 unchanged");
        output.ShouldContain("Dry run: nothing was written.");
        Row(Charged).Sentiment.ShouldBe("positive");
        Query("SELECT count(*) FROM feedback_revisions").ShouldBe(0L);
        Query("SELECT count(*) FROM alerts").ShouldBe(0L);
        _store.Snapshot().ShouldBe(before);
    }

    [Fact]
    public async Task With_the_llm_every_row_gets_its_answer_as_a_revision_and_the_alert_is_decided_again()
    {
        _llm.Reply = request => request.User switch
        {
            var u when u.Contains("charged twice", StringComparison.Ordinal) => FakeReply.Labels("negative", "billing", 0.95),
            var u when u.Contains("love", StringComparison.Ordinal) => FakeReply.Labels("negative", "ux", 0.9),
            _ => new FakeReply.Answer("not json"),
        };
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["OPENAI_MODEL"] = "test-model",
        };

        var (exitCode, output) = await RunCliAsync(environment, "reclassify", "--since", "2026-11-01", "--until", "2026-11-25", "--method", "ai", "--concurrency", "2");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("with the LLM (test-model, prompt v2)");
        output.ShouldContain("changed 2");
        output.ShouldContain("1 kept (the LLM gave no answer)");
        var love = Row(Love);
        (love.Sentiment, love.Topic, love.Method, love.Model, love.Alert).ShouldBe(("negative", "ux", "ai", "test-model", true));
        Revisions(love.Id).ShouldHaveSingleItem().ShouldStartWith("positive/");
        Query($"SELECT count(*) FROM alerts WHERE feedback_id = {love.Id}").ShouldBe(1L);
        var charged = Row(Charged);
        (charged.Method, charged.Topic).ShouldBe(("ai", "billing"));
        Row(Crashes).Method.ShouldBe("ml_fallback", "the LLM's unusable answer leaves the stored one");
        _llm.MaxConcurrentRequests.ShouldBeLessThanOrEqualTo(2);

        // Every call is counted, the one whose answer was unusable too (the provider billed it).
        Query("SELECT CAST(sum(calls) AS bigint) FROM llm_usage").ShouldBe(3L);
        Query("SELECT CAST(sum(input_tokens) AS bigint) FROM llm_usage").ShouldBe(3L * 120);

        var (againExit, again) = await RunCliAsync(environment, "reclassify", "--since", "2026-11-01", "--until", "2026-11-25", "--method", "ai");

        againExit.ShouldBe(0, again);
        again.ShouldContain("changed 0");
        Query("SELECT count(*) FROM feedback_revisions").ShouldBe(2L);
    }

    [Fact]
    public async Task With_the_months_llm_budget_spent_the_rows_left_keep_their_answers_and_every_call_is_counted()
    {
        _llm.Reply = _ => FakeReply.Labels("negative", "ux", 0.9);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["OPENAI_MODEL"] = "test-model",
            ["LLM_TOKEN_BUDGET_MONTHLY"] = "200",
        };

        // One call at a time: 134 tokens, then 268, and the third row finds the budget spent.
        var (exitCode, output) = await RunCliAsync(environment, "reclassify", "--since", "2026-11-01", "--until", "2026-11-25", "--method", "ai", "--concurrency", "1");

        exitCode.ShouldBe(0, output);
        output.ShouldContain("1 kept (the month's LLM token budget, LLM_TOKEN_BUDGET_MONTHLY, is spent)");
        _llm.Requests.Count.ShouldBe(2);
        Query("SELECT CAST(sum(calls) AS bigint) FROM llm_usage").ShouldBe(2L);
        Query("SELECT CAST(sum(input_tokens + output_tokens) AS bigint) FROM llm_usage").ShouldBe(268L);
    }

    [Fact]
    public async Task With_the_llm_asked_for_but_none_configured_it_says_so_and_fails()
    {
        var (exitCode, output) = await RunCliAsync([], "reclassify", "--since", "7d", "--method", "ai");

        exitCode.ShouldBe(1);
        output.ShouldContain("OPENAI_API_KEY");
        Query("SELECT count(*) FROM feedback_revisions").ShouldBe(0L);
    }

    private Task<(int ExitCode, string Output)> RunCliAsync(Dictionary<string, string> environment, params string[] args) =>
        CliProcess.RunAsync(_directory, new Dictionary<string, string>(environment.Concat(_store.Environment), StringComparer.Ordinal), args);

    /// <summary>What an older classifier might have said: a confident positive, general, decided by an LLM, no alert.</summary>
    private void GiveOldAnswer(string text) =>
        Execute("UPDATE feedback SET sentiment = 'positive', topic = 'general', confidence = 0.9, confidence_score = 'high', " +
            "processing_method = 'ai', model = 'old-model', alert_triggered = false WHERE text = @text", text);

    private StoredRow Row(string text)
    {
        using var connection = _store.Open();
        using var command = CliStore.Command(
            connection, "SELECT id, sentiment, topic, processing_method, model, alert_triggered FROM feedback WHERE text = @text", ("text", text));
        using var reader = command.ExecuteReader();
        reader.Read().ShouldBeTrue();
        return new StoredRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetBoolean(5));
    }

    private List<string> Revisions(long id)
    {
        using var connection = _store.Open();
        using var command = CliStore.Command(
            connection,
            "SELECT previous_sentiment || '/' || previous_topic || '/' || previous_method || ' -> ' || sentiment || '/' || topic || '/' || method || ': ' || reason " +
            "FROM feedback_revisions WHERE feedback_id = @id ORDER BY id",
            ("id", id));
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private object? Query(string sql) => _store.Query(sql);

    private void Execute(string sql, string text) => _store.Execute(sql, ("text", text)).ShouldBe(1);

    private sealed record StoredRow(long Id, string Sentiment, string Topic, string Method, string Model, bool Alert);
}

public sealed class CliReclassifyOnSqliteTests() : CliReclassifyTests(StoreKind.Sqlite);

public sealed class CliReclassifyOnPostgresTests() : CliReclassifyTests(StoreKind.Postgres);
