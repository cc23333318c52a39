using System.Net;
using Feedback.Storage;
using Feedback.Api.Tests.Infrastructure;
using Npgsql;
using Shouldly;
using Feedback.Storage.Postgres;

namespace Feedback.Api.Tests;

/// <summary>What is particular to the PostgreSQL store: DATABASE_URL's forms, its faults, and its plans.</summary>
public sealed class PostgresStoreTests : IDisposable
{
    private FeedbackApp? _app;

    public void Dispose() => _app?.Dispose();

    [Theory]
    [InlineData("postgres://feedback:s%40cret@db.internal:6432/feedback", "db.internal", 6432, "feedback", "feedback", "s@cret")]
    [InlineData("postgresql://app@10.0.0.5/reviews", "10.0.0.5", 5432, "reviews", "app", null)]
    [InlineData("Host=pg;Port=5433;Username=u;Password=p;Database=d", "pg", 5433, "d", "u", "p")]
    public void Database_url_in_url_or_npgsql_form_names_the_server(string url, string host, int port, string database, string user, string? password)
    {
        PostgresUrl.TryParse(url, out var connectionString, out var error).ShouldBeTrue(error);

        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        parsed.Host.ShouldBe(host);
        parsed.Port.ShouldBe(port);
        parsed.Database.ShouldBe(database);
        parsed.Username.ShouldBe(user);
        parsed.Password.ShouldBe(password);
    }

    [Fact]
    public void Sslmode_in_the_url_is_passed_on_and_an_unknown_option_is_refused()
    {
        PostgresUrl.TryParse("postgres://u:p@h/d?sslmode=require", out var connectionString, out _).ShouldBeTrue();
        new NpgsqlConnectionStringBuilder(connectionString).SslMode.ShouldBe(SslMode.Require);

        PostgresUrl.TryParse("postgres://u:p@h/d?no_such_option=1", out _, out var error).ShouldBeFalse();
        error.ShouldNotBeNullOrWhiteSpace();
        error.ShouldNotContain("u:p");
    }

    [Theory]
    [InlineData("sqlite:///var/lib/feedback.db")]
    [InlineData("Data Source=feedback.db")]
    [InlineData("")]
    public void Sqlite_forms_stay_on_sqlite(string url) => PostgresUrl.IsPostgres(url).ShouldBeFalse();

    [Fact]
    public async Task Only_a_provisional_row_whose_llm_call_is_followed_is_leased_to_this_instance()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        llm.Reply = _ => new FakeReply.Gated(gate, FakeReply.Labels("negative", "bug", 0.9));
        _app = new FeedbackApp(
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["OPENAI_BASE_URL"] = llm.BaseUrl.ToString(),
                ["OPENAI_API_KEY"] = "sk-test",
                ["OPENAI_MODEL"] = "test-model",
                ["AI_DEADLINE_MS"] = "100",
                ["AI_MAX_CONCURRENCY"] = "1",

                // No sweep during the test: the leases seen are the ones the writes set.
                ["AI_SWEEP_SECONDS"] = "3600",
            },
            store: StoreKind.Postgres);
        var client = _app.Client();

        var followed = await (await client.PostFeedbackAsync(new { text = "The export crashes every time and I lost my work." })).JsonAsync();
        var busy = await (await client.PostFeedbackAsync(new { text = "The login page is slow and then logs me out again." })).JsonAsync();

        followed.Str("status").ShouldBe("provisional");
        busy.Str("status").ShouldBe("provisional");
        _app.Scalar($"SELECT COUNT(*) FROM feedback WHERE id = {followed.GetProperty("id").GetInt64()} AND lease_until IS NOT NULL").ShouldBe(1);
        _app.Scalar($"SELECT COUNT(*) FROM feedback WHERE id = {busy.GetProperty("id").GetInt64()} AND lease_until IS NULL AND claimed_by IS NULL").ShouldBe(1);
        gate.SetResult();
    }

    [Fact]
    public async Task A_read_only_database_answers_503_with_retry_after_and_writes_again_once_it_is_writable()
    {
        _app = new FeedbackApp(store: StoreKind.Postgres);
        var client = _app.Client();
        (await client.PostFeedbackAsync(new { text = "Works fine before the failover." })).StatusCode.ShouldBe(HttpStatusCode.Created);

        // As during a failover to a standby: every new transaction is read-only; the app's open connections are cut.
        SetReadOnly(_app.Database!, true);
        // The first write may meet a connection the server cut; the next one meets the read-only database itself.
        var cut = await client.PostFeedbackAsync(new { text = "The export crashes every time, please fix it." });
        var refused = await client.PostFeedbackAsync(new { text = "The export crashes every time, please fix it." });
        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        cut.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        refused.Headers.RetryAfter.ShouldNotBeNull();
        (await refused.JsonAsync()).Str("detail").ShouldContain("read-only");
        health.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await health.JsonAsync()).Str("database").ShouldBe("unavailable");

        SetReadOnly(_app.Database!, false);
        var accepted = await client.PostFeedbackAsync(new { text = "The export crashes every time, please fix it." });

        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
        _app.Scalar("SELECT COUNT(*) FROM feedback").ShouldBe(2);
    }

    [Fact]
    public async Task Listing_and_counting_a_large_table_use_the_indexes()
    {
        _app = new FeedbackApp(store: StoreKind.Postgres);
        await _app.Client().PostFeedbackAsync(new { text = "One row, so the tables exist and migrations ran." });
        using var connection = _app.Database!.Open();
        Execute(connection, """
            INSERT INTO feedback (text, sentiment, topic, confidence, confidence_score, score_positive, score_negative, score_neutral,
                score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at)
            SELECT 'row ' || i, (ARRAY['positive','negative','neutral','mixed'])[1 + i % 4], 'bug', 0.9, 'high', 0, 0.9, 0.1, 0,
                false, 'ml_fallback', 'en', 'local-3', 'final', '[]', timestamptz '2026-01-01' + i * interval '1 minute'
            FROM generate_series(1, 50000) AS i;
            ANALYZE feedback;
            """);

        // The queries the endpoints send, as EF writes them: a page newest first by sentiment, a day of stats.
        var page = Plan(connection, "SELECT * FROM feedback WHERE sentiment = 'negative' ORDER BY id DESC LIMIT 51");
        var day = Plan(connection,
            "SELECT sentiment, count(*) FROM feedback WHERE created_at >= '2026-01-10' AND created_at < '2026-01-11' GROUP BY sentiment");
        var provisional = Plan(connection, "SELECT id, text FROM feedback WHERE status = 'provisional' AND id > 0 ORDER BY id LIMIT 4");

        page.ShouldContain("Index Scan", customMessage: page);
        day.ShouldContain("ix_feedback_created_at", customMessage: day);
        provisional.ShouldContain("ix_feedback_provisional", customMessage: provisional);
    }

    /// <summary>
    /// The search document blanks punctuation with one regular expression instead of translate() (cheaper per insert); the
    /// index built with the old body stays valid only if both give the same document for every text.
    /// </summary>
    [Fact]
    public async Task The_search_document_blanks_the_same_characters_as_the_translate_it_replaced()
    {
        _app = new FeedbackApp(store: StoreKind.Postgres);
        await _app.Client().PostFeedbackAsync(new { text = "One row, so the tables exist and migrations ran." });
        using var connection = _app.Database!.Open();
        Execute(connection, """
            CREATE TEMP TABLE samples AS SELECT s AS text FROM (VALUES
                (E'a!b"c#d$e%f&g\'h(i)j*k+l,m-n.o/p:q;r<s=t>u?v@w[x\\y]z^A_B`C{D|E}F~G'),
                (E'\u2018H\u2019I\u201AJ\u201BK\u201CL\u201DM\u201EN\u00ABO\u00BBP\u2039Q\u203AR\u2013S\u2014T\u2026U\u00B7V\u00A1W\u00BFX'),
                (E'Café déjà-vu: naïve façade — "quoted" [x] {y} 100% e-mail@example.com\ttab'),
                ('')) AS v(s);
            """);
        using var compare = new NpgsqlCommand("""
            SELECT count(*) FROM samples WHERE feedback_search_document(text) IS DISTINCT FROM to_tsvector('simple'::regconfig, translate(
                unaccent('unaccent'::regdictionary, text),
                E'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u00AB\u00BB\u2039\u203A\u2013\u2014\u2026\u00B7\u00A1\u00BF',
                repeat(' ', 49)))
            """, connection);
        Convert.ToInt64(compare.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture).ShouldBe(0);
        using var words = new NpgsqlCommand("SELECT feedback_search_document('Déjà-vu: e-mail@example.com')::text", connection);
        words.ExecuteScalar().ShouldBe("'com':6 'deja':1 'e':3 'example':5 'mail':4 'vu':2");
    }

    private static void SetReadOnly(PostgresDatabase database, bool readOnly)
    {
        using var admin = new NpgsqlConnection(TestServers.Postgres);
        admin.Open();
        Execute(admin, $"ALTER DATABASE {database.Name} SET default_transaction_read_only = {(readOnly ? "on" : "off")}");
        Execute(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}' AND pid <> pg_backend_pid()");
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static string Plan(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
