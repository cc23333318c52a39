using Feedback.Analysis.Deep;
using Feedback.Analysis.Llm;
using Feedback.Analysis.Themes;
using Feedback.Api.Alerts;
using Feedback.Api.Similarity;
using Feedback.Api.Tests.Infrastructure;
using Feedback.Api.Themes;
using Feedback.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The background reads by id (the themes' join of new messages, the similarity index's catch-up) on a store whose
/// messages have no sentence vector (<c>CLASSIFIER=fast</c>, the tests' default): each row is looked at once, not read
/// again on every turn, which on a store of a million such rows walked the whole table every two seconds.
/// </summary>
public sealed class VectorScanTests : IAsyncLifetime
{
    private readonly List<FeedbackApp> _apps = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task The_themes_join_passes_over_rows_without_a_vector_once(StoreKind store)
    {
        var app = Start(store);
        var first = await PostAsync(app, 3);
        var reads = new CountingReads(app.Services.GetRequiredService<IBackgroundReads>());
        var current = new CurrentThemes();
        current.Replace(ThemeSnapshot.Build([], [], SentenceEncoder.Dimensions, new ThemeThresholds(), DateTime.UtcNow, TestContext.Current.CancellationToken));
        var refresher = new ThemeRefresher(
            current, app.Services.GetRequiredService<ThemeSettings>(), reads, app.Services.GetRequiredService<EmergingThemes>(),
            app.Services.GetRequiredService<ThemeTitles>(), TimeProvider.System, NullLogger<ThemeRefresher>.Instance);

        (await refresher.JoinNewAsync(TestContext.Current.CancellationToken)).ShouldBe(0);
        (await refresher.JoinNewAsync(TestContext.Current.CancellationToken)).ShouldBe(0);
        reads.VectorRowsAfter.ShouldBe([0]);

        var second = await PostAsync(app, 1);
        (await refresher.JoinNewAsync(TestContext.Current.CancellationToken)).ShouldBe(0);
        reads.VectorRowsAfter.ShouldBe([0, first.Max()]);
        second.Single().ShouldBeGreaterThan(first.Max());
    }

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task The_similarity_catch_up_settles_past_rows_without_a_vector(StoreKind store)
    {
        var app = Start(store);
        var ids = await PostAsync(app, 3);
        var reads = new CountingReads(app.Services.GetRequiredService<IBackgroundReads>());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var similar = new SimilarMessages(reads, time, NullLogger<SimilarMessages>.Instance);

        await similar.CatchUpAsync(TestContext.Current.CancellationToken);
        time.Advance(SimilarMessages.Settle + TimeSpan.FromSeconds(1));
        await similar.CatchUpAsync(TestContext.Current.CancellationToken);
        await similar.CatchUpAsync(TestContext.Current.CancellationToken);

        // The first two read from the start (the second's mark settles as it ends); the third starts past the rows.
        reads.EmbeddedIdsAfter.ShouldBe([0, 0, ids.Max()]);
        similar.Index.Count.ShouldBe(0);
    }

    private FeedbackApp Start(StoreKind store)
    {
        var app = new FeedbackApp(store: store);
        _apps.Add(app);
        return app;
    }

    private static async Task<List<long>> PostAsync(FeedbackApp app, int count)
    {
        var client = app.Client();
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var response = await client.PostFeedbackAsync(new { text = $"The export button does nothing, attempt {i}." });
            ids.Add((await response.JsonAsync()).GetProperty("id").GetInt64());
        }

        return ids;
    }

    /// <summary>The real reads, noting where each read by id started.</summary>
    private sealed class CountingReads(IBackgroundReads inner) : IBackgroundReads
    {
        public List<long> VectorRowsAfter { get; } = [];

        public List<long> EmbeddedIdsAfter { get; } = [];

        public Task<List<VectorRow>> VectorRowsAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
        {
            VectorRowsAfter.Add(afterId);
            return inner.VectorRowsAfterAsync(afterId, limit, cancellationToken);
        }

        public Task<List<long>> EmbeddedIdsAfterAsync(long afterId, CancellationToken cancellationToken)
        {
            EmbeddedIdsAfter.Add(afterId);
            return inner.EmbeddedIdsAfterAsync(afterId, cancellationToken);
        }

        public Task<long> HighestIdAsync(CancellationToken cancellationToken) => inner.HighestIdAsync(cancellationToken);

        public Task<int> CountPendingDeliveriesAsync(CancellationToken cancellationToken) => inner.CountPendingDeliveriesAsync(cancellationToken);

        public Task<DeliveryContent?> LoadDeliveryAsync(long deliveryId, long groupId, CancellationToken cancellationToken) =>
            inner.LoadDeliveryAsync(deliveryId, groupId, cancellationToken);

        public Task<Dictionary<string, int>> CountNegativeByTopicAsync(DateTime from, DateTime to, CancellationToken cancellationToken) =>
            inner.CountNegativeByTopicAsync(from, to, cancellationToken);

        public Task<List<StoredVector>> EmbeddingsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
            inner.EmbeddingsOfAsync(ids, cancellationToken);

        public Task<List<VectorRow>> VectorRowsSinceAsync(DateTime since, int limit, CancellationToken cancellationToken) =>
            inner.VectorRowsSinceAsync(since, limit, cancellationToken);

        public Task<LlmUsage> LlmUsageAsync(DateTime from, DateTime to, CancellationToken cancellationToken) =>
            inner.LlmUsageAsync(from, to, cancellationToken);

        public Task<Dictionary<long, string>> TextsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken) =>
            inner.TextsOfAsync(ids, cancellationToken);
    }
}
