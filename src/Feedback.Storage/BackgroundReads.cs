using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Storage;

/// <summary>A message in an alert group, as a delivery lists it.</summary>
internal sealed record AlertedFeedback(long Id, string Sentiment, string Topic, double Confidence, string ConfidenceScore);

/// <summary>A delivery's group as it is now and the messages that joined it (the first 200, oldest first).</summary>
internal sealed record DeliveryContent(AlertGroup Group, IReadOnlyList<AlertedFeedback> Feedback);

/// <summary>
/// The reads the background services (alert dispatcher, spike detector, similarity index) make on their own, without a request: for the
/// SQLite file in plain ADO.NET (<see cref="SqliteBackgroundReads"/>), so a server nobody reads from never loads EF
/// Core; for PostgreSQL through the EF model (<see cref="EfBackgroundReads"/>).
/// </summary>
internal interface IBackgroundReads
{
    /// <summary>How many deliveries are still to be made, due or not.</summary>
    Task<int> CountPendingDeliveriesAsync(CancellationToken cancellationToken);

    /// <summary>The delivery's group and messages, or null when the delivery is no longer pending or its group is gone.</summary>
    Task<DeliveryContent?> LoadDeliveryAsync(long deliveryId, long groupId, CancellationToken cancellationToken);

    /// <summary>Negative and mixed messages per topic created in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    Task<Dictionary<string, int>> CountNegativeByTopicAsync(DateTime from, DateTime to, CancellationToken cancellationToken);

    /// <summary>The ids above <paramref name="afterId"/> of the messages stored with a sentence vector.</summary>
    Task<List<long>> EmbeddedIdsAfterAsync(long afterId, CancellationToken cancellationToken);

    /// <summary>
    /// The highest message id stored, 0 with none: how far a read by id has looked, whether or not the rows up to it have
    /// a sentence vector, so a store of rows without one (<c>CLASSIFIER=fast</c>, a fast import) is passed over once.
    /// </summary>
    Task<long> HighestIdAsync(CancellationToken cancellationToken);

    /// <summary>The sentence vectors of the listed messages that have one (a list short enough for one statement).</summary>
    Task<List<StoredVector>> EmbeddingsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken);

    /// <summary>
    /// The newest <paramref name="limit"/> messages created at or after <paramref name="since"/> that have a sentence
    /// vector, newest first, with their text (what the themes are clustered and labelled from).
    /// </summary>
    Task<List<VectorRow>> VectorRowsSinceAsync(DateTime since, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The first <paramref name="limit"/> messages with a sentence vector above <paramref name="afterId"/>, in id order,
    /// without their text: the similarity index's catch-up and the themes' late joiners.
    /// </summary>
    Task<List<VectorRow>> VectorRowsAfterAsync(long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>LLM calls and tokens counted in the hours starting in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    Task<LlmUsage> LlmUsageAsync(DateTime from, DateTime to, CancellationToken cancellationToken);

    /// <summary>The texts of the listed messages that still exist, by id (a list short enough for one statement): an emerging theme's examples.</summary>
    Task<Dictionary<long, string>> TextsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken);
}

/// <summary>A message with its stored vector and what a theme counts of it; <see cref="Text"/> only where asked for.</summary>
internal sealed record VectorRow(long Id, DateTime CreatedAt, string Sentiment, string Topic, string? Text, byte[] Embedding);

/// <summary>A message's stored sentence vector (<see cref="StoredEmbedding"/>'s encoding).</summary>
internal sealed record StoredVector(long Id, byte[] Embedding);

/// <summary>The background reads through EF Core, for the PostgreSQL store.</summary>
internal sealed class EfBackgroundReads(IServiceScopeFactory scopes) : IBackgroundReads
{
    private static readonly string[] Negative = ["negative", "mixed"];

    public async Task<int> CountPendingDeliveriesAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.AlertDeliveries.CountAsync(d => d.State == "pending", cancellationToken);
    }

    public async Task<DeliveryContent?> LoadDeliveryAsync(long deliveryId, long groupId, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        if (!await db.AlertDeliveries.AnyAsync(d => d.Id == deliveryId && d.State == "pending", cancellationToken))
        {
            return null;
        }

        var alertGroup = await db.AlertGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId, cancellationToken);
        if (alertGroup is null)
        {
            return null;
        }

        var feedback = await (
                from alert in db.Alerts.AsNoTracking()
                join row in db.Feedback.AsNoTracking() on alert.FeedbackId equals row.Id
                where alert.GroupId == alertGroup.Id
                orderby alert.Id
                select new AlertedFeedback(row.Id, row.Sentiment, row.Topic, row.Confidence, row.ConfidenceScore))
            .Take(200)
            .ToListAsync(cancellationToken);
        return new DeliveryContent(alertGroup, feedback);
    }

    public async Task<Dictionary<string, int>> CountNegativeByTopicAsync(DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking()
            .Where(f => f.CreatedAt >= from && f.CreatedAt < to && Negative.Contains(f.Sentiment))
            .GroupBy(f => f.Topic).Select(g => new { Topic = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Topic, g => g.Count, StringComparer.Ordinal, cancellationToken);
    }

    public async Task<List<long>> EmbeddedIdsAfterAsync(long afterId, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking().Where(f => f.Id > afterId && f.Embedding != null).Select(f => f.Id).ToListAsync(cancellationToken);
    }

    public async Task<long> HighestIdAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.MaxAsync(f => (long?)f.Id, cancellationToken) ?? 0;
    }

    public async Task<Dictionary<long, string>> TextsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking()
            .Where(f => ids.Contains(f.Id))
            .ToDictionaryAsync(f => f.Id, f => f.Text, cancellationToken);
    }

    public async Task<List<StoredVector>> EmbeddingsOfAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking()
            .Where(f => ids.Contains(f.Id) && f.Embedding != null)
            .Select(f => new StoredVector(f.Id, f.Embedding!))
            .ToListAsync(cancellationToken);
    }

    public async Task<LlmUsage> LlmUsageAsync(DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        return await LlmUsageReads.SumAsync(scope.ServiceProvider.GetRequiredService<FeedbackDb>(), from, to, cancellationToken);
    }

    public async Task<List<VectorRow>> VectorRowsSinceAsync(DateTime since, int limit, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking()
            .Where(f => f.CreatedAt >= since && f.Embedding != null)
            .OrderByDescending(f => f.Id)
            .Take(limit)
            .Select(f => new VectorRow(f.Id, f.CreatedAt, f.Sentiment, f.Topic, f.Text, f.Embedding!))
            .ToListAsync(cancellationToken);
    }

    public async Task<List<VectorRow>> VectorRowsAfterAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking()
            .Where(f => f.Id > afterId && f.Embedding != null)
            .OrderBy(f => f.Id)
            .Take(limit)
            .Select(f => new VectorRow(f.Id, f.CreatedAt, f.Sentiment, f.Topic, null, f.Embedding!))
            .ToListAsync(cancellationToken);
    }
}
