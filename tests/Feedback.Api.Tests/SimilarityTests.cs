using System.Net;
using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Similar messages on the real encoder (all-MiniLM-L6-v2): every message is stored with its sentence vector, and
/// GET /feedback/{id}/similar and GET /feedback?similar_to= rank the stored ones by meaning, on SQLite and PostgreSQL,
/// also across two instances sharing one database.
/// </summary>
public sealed class SimilarityTests : IAsyncLifetime
{
    private const string Crash = "The app crashes every time I open the settings page.";
    private const string CrashParaphrase = "Whenever I go into my preferences the application shuts down on me.";
    private const string Praise = "Lovely colours in the new design, well done to the team.";
    private const string Refund = "Please give me my money back for the duplicate payment on my card.";

    private readonly List<FeedbackApp> _apps = [];
    private PostgresDatabase? _database;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        _database?.Dispose();
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task A_paraphrase_ranks_above_unrelated_messages_and_each_row_is_stored_with_its_vector(StoreKind store)
    {
        var app = await StartAsync(store);
        var crash = await PostAsync(app, Crash);
        var praise = await PostAsync(app, Praise);
        var refund = await PostAsync(app, Refund);
        var paraphrase = await PostAsync(app, CrashParaphrase);

        var items = await SimilarAsync(app, $"/feedback/{crash}/similar?limit=3");

        Id(items[0]).ShouldBe(paraphrase);
        items.Select(Id).ShouldNotContain(crash);
        items.Select(Id).ShouldBe([paraphrase, praise, refund], ignoreOrder: true);
        Similarity(items[0]).ShouldBeGreaterThan(Similarity(items[1]) + 0.1);
        items[0].Str("topic").ShouldNotBeNullOrEmpty();
        items[0].GetProperty("topics").EnumerateObject().ShouldNotBeEmpty();
        app.Scalar($"SELECT length(embedding) FROM feedback WHERE id = {crash}").ShouldBe(388);
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task Similar_to_a_text_ranks_the_list_by_meaning_instead_of_time(StoreKind store)
    {
        var app = await StartAsync(store);
        var crash = await PostAsync(app, Crash);
        var refund = await PostAsync(app, Refund);
        await PostAsync(app, Praise);

        var items = await SimilarAsync(app, "/feedback?similar_to=" + Uri.EscapeDataString("I was billed two times and want a refund") + "&limit=2");

        items.Select(Id).ShouldBe([refund, crash]);
        Similarity(items[0]).ShouldBeGreaterThan(Similarity(items[1]));
    }

    [Fact]
    public async Task Another_instance_on_the_same_postgres_finds_the_messages_this_one_stored()
    {
        _database = PostgresDatabase.Create();
        var first = await StartAsync(StoreKind.Postgres, _database);
        var crash = await PostAsync(first, Crash);
        await PostAsync(first, Praise);
        await PostAsync(first, Refund);

        // Started after those rows were stored: it loads them from the store.
        var second = await StartAsync(StoreKind.Postgres, _database);
        var paraphrase = await PostAsync(second, CrashParaphrase);

        // The first instance never saw the paraphrase's write: its index catches up from the store before searching.
        (await SimilarAsync(first, $"/feedback/{crash}/similar?limit=1")).Select(Id).ShouldBe([paraphrase]);
        (await SimilarAsync(second, $"/feedback/{paraphrase}/similar?limit=1")).Select(Id).ShouldBe([crash]);
    }

    [Fact]
    public async Task A_restarted_instance_loads_the_stored_vectors_and_answers_the_same()
    {
        var app = await StartAsync(StoreKind.Sqlite);
        var crash = await PostAsync(app, Crash);
        await PostAsync(app, Praise);
        await PostAsync(app, CrashParaphrase);
        var before = await SimilarAsync(app, $"/feedback/{crash}/similar");

        var restarted = app.Restart();
        _apps.Add(restarted);
        var after = await SimilarAsync(restarted, $"/feedback/{crash}/similar");

        after.Select(Id).ShouldBe(before.Select(Id));
        after.Select(Similarity).ShouldBe(before.Select(Similarity));
    }

    [Theory]
    [InlineData("/feedback/{id}/similar?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/feedback/{id}/similar?limit=101", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/feedback/{id}/similar?limit=ten", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/feedback/999999/similar", HttpStatusCode.NotFound, null)]
    [InlineData("/feedback?similar_to=", HttpStatusCode.BadRequest, "similar_to")]
    [InlineData("/feedback?similar_to=%20%20", HttpStatusCode.BadRequest, "similar_to")]
    [InlineData("/feedback?similar_to=crash&limit=101", HttpStatusCode.BadRequest, "limit")]
    public async Task Invalid_similarity_requests_are_refused_with_a_problem(string path, HttpStatusCode status, string? field)
    {
        var app = await StartAsync(StoreKind.Sqlite);
        var id = await PostAsync(app, Crash);

        var response = await app.Client().GetAsync(new Uri(path.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        if (field is not null)
        {
            (await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task A_message_without_a_vector_answers_409_saying_reindex_gives_it_one()
    {
        var app = await StartAsync(StoreKind.Sqlite);
        // Shorter than the analysed minimum: the input rules answer it and the encoder never reads it.
        var tooShort = await PostAsync(app, "Crashes!");

        var response = await app.Client().GetAsync(new Uri($"/feedback/{tooShort}/similar", UriKind.Relative), TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = await response.JsonAsync();
        problem.Str("type").ShouldBe("/problems/no-embedding");
        problem.Str("detail").ShouldContain("reindex");
    }

    private async Task<FeedbackApp> StartAsync(StoreKind store, PostgresDatabase? database = null)
    {
        // A generous budget: these tests are about what is found, not how fast; every answer is then the deep one.
        Dictionary<string, string> settings = new(StringComparer.Ordinal) { ["CLASSIFIER"] = "deep", ["DEEP_DEADLINE_MS"] = "10000" };
        var app = database is not null ? new FeedbackApp(database, settings) : new FeedbackApp(settings, store: store);
        _apps.Add(app);
        await app.WaitForEncoderAsync();
        return app;
    }

    private static async Task<long> PostAsync(FeedbackApp app, string text)
    {
        var response = await app.Client().PostFeedbackAsync(new { text });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private static async Task<List<JsonElement>> SimilarAsync(FeedbackApp app, string path)
    {
        var response = await app.Client().GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.JsonAsync()).GetProperty("items").EnumerateArray()];
    }

    private static long Id(JsonElement item) => item.GetProperty("id").GetInt64();

    private static double Similarity(JsonElement item) => item.GetProperty("similarity").GetDouble();
}
