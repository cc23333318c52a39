using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #23 item 4: DELETE /customers/{customer_id}/feedback erases one customer's messages and everything derived from
/// them (labels, alert rows and excerpts, the search index, the similarity index) and nobody else's, on either store.
/// </summary>
public abstract class CustomerErasureTests : IDisposable
{
    protected const string Admin = "erasure-admin-key-0123456789ab";
    private const string Viewer = "viewer-key-0123456789abcdef00";

    // Words no other message has, to find any trace of the erased customer's text.
    protected const string Charged = "I was charged twice by Quokkaville billing, refund me now. Unacceptable and outrageous!";
    private const string Crash = "The Quokkaville app crashes every time I open the export screen, this is terrible.";
    protected const string OtherComplaint = "I was charged twice for my plan this month, refund me now. Unacceptable!";
    private const string OtherPraise = "I love the new reports page, it is wonderful and so easy to use. Thank you!";

    private readonly string _keysFile = Path.Combine(Directory.CreateTempSubdirectory("feedback-erasure-keys-").FullName, "keys.txt");
    private readonly FeedbackApp _app;

    protected CustomerErasureTests(StoreKind kind)
    {
        File.WriteAllLines(_keysFile, [Line("lead", "admin", Admin), Line("viewer", "read", Viewer)]);
        _app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["API_KEYS_FILE"] = _keysFile }, store: kind);
    }

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(Path.GetDirectoryName(_keysFile)!, recursive: true);
    }

    [Fact]
    public async Task A_customers_messages_labels_alert_excerpts_and_search_entries_go_and_everyone_elses_stay()
    {
        var theirs = new[] { await PostAsync(Charged, "c-gone"), await PostAsync(Crash, "c-gone") };
        var others = new[] { await PostAsync(OtherComplaint, "c-stays"), await PostAsync(OtherPraise, null) };
        (await _app.Client(Admin).PutAsJsonAsync(new Uri($"/feedback/{theirs[1]}/label", UriKind.Relative), new { sentiment = "negative", topic = "bug" }, TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SearchAsync("quokkaville")).ShouldBe(theirs.Reverse());
        (await AlertsTextAsync()).ShouldContain("Quokkaville");

        var erased = await _app.Client(Admin).DeleteAsync(new Uri("/customers/c-gone/feedback", UriKind.Relative), TestContext.Current.CancellationToken);

        erased.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await erased.JsonAsync()).GetProperty("deleted").GetInt32().ShouldBe(2);
        foreach (var id in theirs)
        {
            (await GetAsync(id)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        foreach (var id in others)
        {
            (await GetAsync(id)).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await SearchAsync("quokkaville")).ShouldBeEmpty();
        (await SearchAsync("refund")).ShouldBe([others[0]]);
        var alerts = await AlertsTextAsync();
        alerts.ShouldNotContain("Quokkaville");
        alerts.ShouldContain("(erased at the customer");
        alerts.ShouldContain("charged twice for my plan");
        _app.Logs.Events.ShouldNotContain(e => e.Text.Contains("c-gone", StringComparison.Ordinal) || e.Text.Contains("Quokkaville", StringComparison.Ordinal));

        // Done again, there is nothing left of theirs.
        var again = await _app.Client(Admin).DeleteAsync(new Uri("/customers/c-gone/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        (await again.JsonAsync()).GetProperty("deleted").GetInt32().ShouldBe(0);
    }

    [Fact]
    public async Task Erasing_needs_an_admin_key_and_a_customer_id_as_one_could_be_posted()
    {
        var id = await PostAsync(Charged, "c-kept");

        var asViewer = await _app.Client(Viewer).DeleteAsync(new Uri("/customers/c-kept/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        asViewer.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var tooLong = await _app.Client(Admin).DeleteAsync(new Uri($"/customers/{new string('c', 201)}/feedback", UriKind.Relative), TestContext.Current.CancellationToken);
        tooLong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await tooLong.JsonAsync()).GetProperty("errors").TryGetProperty("customer_id", out _).ShouldBeTrue();

        (await GetAsync(id)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_group_quoting_several_messages_loses_the_erased_ones_words_and_keeps_the_others()
    {
        var gone = await PostAsync(Charged, "c-gone");
        var kept = await PostAsync(OtherComplaint, "c-stays");
        var summary = $"Emerging theme: double charges\nWhy: 12 negative within a day\n• #{gone}: charged twice by Quokkaville billing\n• #{kept}: charged twice for my plan";
        Execute($"INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
            $"VALUES ('theme', 'billing', 'high', 0, '2026-12-01 09:00:00', '2026-12-01 09:00:00', 2, 'open', 'theme:t1:new', '{summary}')");

        (await _app.Client(Admin).DeleteAsync(new Uri("/customers/c-gone/feedback", UriKind.Relative), TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var stored = Summaries().Single(s => s.StartsWith("Emerging theme", StringComparison.Ordinal));
        stored.ShouldNotContain("Quokkaville");
        stored.ShouldContain($"• #{gone}: (erased at the customer's request)");
        stored.ShouldContain($"• #{kept}: charged twice for my plan");
        stored.ShouldStartWith("Emerging theme: double charges\nWhy: 12 negative within a day\n");
    }

    /// <summary>Runs SQL on the store itself, beside the app.</summary>
    protected abstract void Execute(string sql);

    /// <summary>Every alert group's summary, read from the store itself.</summary>
    protected abstract List<string> Summaries();

    protected FeedbackApp App => _app;

    private static string Line(string name, string scopes, string key) =>
        $"{name} {scopes} sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))}";

    protected async Task<long> PostAsync(string text, string? customer)
    {
        var response = await _app.Client(Admin).PostFeedbackAsync(new { text, customer_id = customer });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private Task<HttpResponseMessage> GetAsync(long id) =>
        _app.Client(Admin).GetAsync(new Uri($"/feedback/{id}", UriKind.Relative), TestContext.Current.CancellationToken);

    private async Task<long[]> SearchAsync(string words)
    {
        var page = await (await _app.Client(Admin).GetAsync(new Uri($"/feedback?q={words}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        return [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64())];
    }

    private async Task<string> AlertsTextAsync() =>
        JsonSerializer.Serialize(await (await _app.Client(Admin).GetAsync(new Uri("/alerts", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync());
}

public sealed class CustomerErasureOnSqliteTests() : CustomerErasureTests(StoreKind.Sqlite)
{
    /// <summary>
    /// Deleted rows would stay readable in the file's free pages, and a search index keeps a deleted row's words until its
    /// segments merge: the erased customer's word is in the file before (as written and as the index's lowercase token)
    /// and in neither form after.
    /// </summary>
    [Fact]
    public async Task Erasure_leaves_no_word_of_the_erased_messages_in_the_file()
    {
        await PostAsync(Charged, "c-gone");
        await PostAsync(OtherComplaint, "c-stays");
        var file = Path.Combine(App.DataDir, "feedback.db");
        Checkpoint();
        var before = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file));
        before.ShouldContain("Quokkaville");
        before.ShouldContain("quokkaville");

        (await App.Client(Admin).DeleteAsync(new Uri("/customers/c-gone/feedback", UriKind.Relative), TestContext.Current.CancellationToken))
            .StatusCode.ShouldBe(HttpStatusCode.OK);

        Checkpoint();
        var after = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file));
        after.ShouldNotContain("uokkaville");
        after.ShouldContain("charged twice for my plan");

        void Checkpoint() => Execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }

    protected override void Execute(string sql)
    {
        using var store = StoreFiles.Open(Path.Combine(App.DataDir, "feedback.db"));
        using var command = store.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected override List<string> Summaries()
    {
        using var store = StoreFiles.Open(Path.Combine(App.DataDir, "feedback.db"));
        return StoreFiles.Strings(store, "SELECT summary FROM alert_groups");
    }
}

public sealed class CustomerErasureOnPostgresTests() : CustomerErasureTests(StoreKind.Postgres)
{
    protected override void Execute(string sql)
    {
        using var connection = App.Database!.Open();
        using var command = new Npgsql.NpgsqlCommand(sql.Replace("'2026-12-01 09:00:00'", "'2026-12-01 09:00:00+00'", StringComparison.Ordinal), connection);
        command.ExecuteNonQuery();
    }

    protected override List<string> Summaries()
    {
        using var connection = App.Database!.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT summary FROM alert_groups", connection);
        using var reader = command.ExecuteReader();
        var summaries = new List<string>();
        while (reader.Read())
        {
            summaries.Add(reader.GetString(0));
        }

        return summaries;
    }
}
