using System.Net;
using System.Text.Json;
using Feedback.Api.Queries;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>?q= over each store's full-text index: the same words find the same messages on SQLite and PostgreSQL.</summary>
public abstract class SearchTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);

    protected SearchTests(StoreKind store, Dictionary<string, string>? settings = null)
    {
        App = new FeedbackApp(settings, time: Time, store: store)
        {
            TestServices = services => services.Replace(ServiceDescriptor.Singleton(new SearchClock(SearchTime))),
        };
    }

    protected FakeTimeProvider Time { get; } = new(Start);

    /// <summary>The clock only the search's time budget reads, so a test can make it race without the app's loops.</summary>
    protected FakeTimeProvider SearchTime { get; } = new(Start);

    protected FeedbackApp App { get; }

    public void Dispose()
    {
        App.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_word_matches_in_any_case_with_or_without_accents_but_only_whole()
    {
        var refund = await PostAllAsync("I want a Refund! Now.", "Le café était froid.", "I was refunded twice.", "Nothing to see here.");

        (await SearchAsync("refund")).ShouldBe([refund[0]]);
        (await SearchAsync("REFUND")).ShouldBe([refund[0]]);
        (await SearchAsync("cafe")).ShouldBe([refund[1]]);
        (await SearchAsync("CAFÉ")).ShouldBe([refund[1]]);
        (await SearchAsync("etait")).ShouldBe([refund[1]]);
    }

    [Fact]
    public async Task A_word_ending_in_a_star_matches_every_word_it_begins()
    {
        var ids = await PostAllAsync("I want a Refund! Now.", "I was refunded twice.", "The reference guide is fine.");

        (await SearchAsync("refu*")).ShouldBe([ids[1], ids[0]]);
        (await SearchAsync("REF*")).ShouldBe([ids[2], ids[1], ids[0]]);
    }

    [Fact]
    public async Task Several_words_must_all_occur_in_any_order()
    {
        var ids = await PostAllAsync("I was refunded twice.", "Charged twice for one order.", "Twice charged, never refunded.");

        (await SearchAsync("twice charged")).ShouldBe([ids[2], ids[1]]);
        (await SearchAsync("refunded charged")).ShouldBe([ids[2]]);
        (await SearchAsync("refunded missing")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Punctuation_separates_words_as_in_the_stored_text()
    {
        var ids = await PostAllAsync("Mail me at support@example.com about e-mail v3.5 please.", "Nothing else here.");

        (await SearchAsync("example")).ShouldBe([ids[0]]);
        (await SearchAsync("mail")).ShouldBe([ids[0]]);
        (await SearchAsync("5")).ShouldBe([ids[0]]);
        (await SearchAsync("example.com")).ShouldBe([ids[0]]);
    }

    [Theory]
    [InlineData("AND OR")]
    [InlineData("\"and\" OR or")]
    [InlineData("NEAR(and or)")]
    [InlineData("text:and or*")]
    [InlineData("and & or | !")]
    [InlineData("'and' <-> or:*")]
    public async Task Search_syntax_in_a_query_is_searched_as_plain_words(string query)
    {
        // Every word of each query (near, text, and, or) is in the first message; none in the second.
        var ids = await PostAllAsync("This and that, or the other text near here.", "Something else.");

        (await SearchAsync(query)).ShouldBe([ids[0]]);
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("*")]
    [InlineData("\"\" ** ()")]
    [InlineData("-")]
    public async Task A_query_without_a_word_is_a_400_naming_q(string query)
    {
        await PostAllAsync("This and that, or the other.");

        var response = await App.Client().GetAsync(new Uri("/feedback?q=" + Uri.EscapeDataString(query), UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("q", out _).ShouldBeTrue();
    }

    [Fact]
    public async Task A_query_longer_than_200_characters_is_a_400_naming_the_limit()
    {
        var atLimit = await App.Client().GetAsync(new Uri("/feedback?q=" + new string('a', 200), UriKind.Relative), TestContext.Current.CancellationToken);
        var overLimit = await App.Client().GetAsync(new Uri("/feedback?q=" + new string('a', 201), UriKind.Relative), TestContext.Current.CancellationToken);

        atLimit.StatusCode.ShouldBe(HttpStatusCode.OK);
        overLimit.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var errors = (await overLimit.JsonAsync()).GetProperty("errors").GetProperty("q")[0].GetString()!;
        errors.ShouldContain("200");
    }

    [Fact]
    public async Task Search_composes_with_the_other_filters_and_pages_by_cursor()
    {
        var ids = await PostAllAsync("Refund please, first.", "Refund please, second.", "Refund please, third.", "No match.");

        var first = await PageAsync("?q=refund&limit=2");
        var second = await PageAsync("?q=refund&limit=2&cursor=" + first.GetProperty("next_cursor").GetString());

        Ids(first).ShouldBe([ids[2], ids[1]]);
        Ids(second).ShouldBe([ids[0]]);
    }

    protected async Task<long[]> PostAllAsync(params string[] texts)
    {
        var ids = new List<long>();
        foreach (var text in texts)
        {
            var response = await App.Client().PostFeedbackAsync(new { text });
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
            ids.Add((await response.JsonAsync()).GetProperty("id").GetInt64());
        }

        return [.. ids];
    }

    protected async Task<HttpResponseMessage> GetSearchAsync(string query) =>
        await App.Client().GetAsync(new Uri("/feedback?q=" + Uri.EscapeDataString(query), UriKind.Relative), TestContext.Current.CancellationToken);

    private async Task<long[]> SearchAsync(string query)
    {
        var response = await GetSearchAsync(query);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"q={query}");
        return Ids(await response.JsonAsync());
    }

    private async Task<JsonElement> PageAsync(string query)
    {
        var response = await App.Client().GetAsync(new Uri("/feedback" + query, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    private static long[] Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64())];
}

public sealed class SearchOnSqliteTests() : SearchTests(StoreKind.Sqlite)
{
    [Fact]
    public async Task The_index_follows_rows_that_are_deleted_or_whose_text_changes()
    {
        var ids = await PostAllAsync("Refund please.", "Refund again please.", "Unrelated words.");

        using (var store = StoreFiles.Open(Path.Combine(App.DataDir, "feedback.db")))
        {
            Execute(store, $"DELETE FROM feedback WHERE id = {ids[0]}");
            Execute(store, $"UPDATE feedback SET text = 'Now about invoices.' WHERE id = {ids[1]}");

            // FTS5 compares its index with the content table and fails if a change was missed.
            Execute(store, "INSERT INTO feedback_search (feedback_search) VALUES ('integrity-check')");
            StoreFiles.Strings(store, "SELECT rowid FROM feedback_search WHERE feedback_search MATCH 'refund'").ShouldBeEmpty();
            StoreFiles.Strings(store, "SELECT rowid FROM feedback_search WHERE feedback_search MATCH 'invoices'").ShouldBe([ids[1].ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
    }

    [Fact]
    public async Task A_search_past_its_time_budget_is_stopped_and_answered_503()
    {
        await PostAllAsync([.. Enumerable.Range(1, 40).Select(i => $"Refund number {i} please.")]);

        // Every look at the search's clock now finds an hour gone: the store's progress handler must stop the statement.
        SearchTime.AutoAdvanceAmount = TimeSpan.FromHours(1);
        var response = await GetSearchAsync("refund*");

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        var problem = await response.JsonAsync();
        problem.Str("type").ShouldBe("/problems/search-timeout");
        problem.Str("detail").ShouldContain("SEARCH_TIMEOUT_MS");
    }

    private static void Execute(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

public sealed class SearchOnPostgresTests() : SearchTests(StoreKind.Postgres, new() { ["SEARCH_TIMEOUT_MS"] = "300" })
{
    [Fact]
    public async Task A_search_past_its_time_budget_is_stopped_and_answered_503()
    {
        await PostAllAsync("Refund please.");

        // A lock another session holds makes the search wait; statement_timeout must end the wait, not the client.
        using var blocker = App.Database!.Open();
        using var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        using (var command = new Npgsql.NpgsqlCommand("LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var response = await GetSearchAsync("refund");

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await response.JsonAsync()).Str("type").ShouldBe("/problems/search-timeout");
    }

    [Fact]
    public async Task The_search_uses_the_text_index()
    {
        await PostAllAsync("Refund please.");

        using var connection = App.Database!.Open();
        using (var off = new Npgsql.NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        using var explain = new Npgsql.NpgsqlCommand(
            "EXPLAIN SELECT id FROM feedback WHERE feedback_search_document(text) @@ to_tsquery('simple', unaccent('''refund'''))", connection);
        var plan = new List<string>();
        using (var reader = await explain.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                plan.Add(reader.GetString(0));
            }
        }

        string.Join('\n', plan).ShouldContain("ix_feedback_search");
    }
}
