using System.Text.Json.Serialization;
using Feedback.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Queries;

/// <summary>
/// Every read of the <c>alerts</c> table that the stats and the dashboard make, in one place, so that a
/// change to how alerts are stored (alert groups, deliveries) means changing this file only.
/// </summary>
internal static class AlertReads
{
    public const int MaxOpen = 100;

    /// <summary>Alerts raised in [from, to), by state (open, resolved, superseded).</summary>
    public static async Task<Dictionary<string, long>> CountByStateAsync(FeedbackDb db, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        var rows = await db.Alerts.AsNoTracking()
            .Where(a => a.CreatedAt >= from && a.CreatedAt < to)
            .GroupBy(a => a.State)
            .Select(g => new { State = g.Key, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.State, r => r.Count, StringComparer.Ordinal);
    }

    /// <summary>The open alerts, newest first, with the message each was raised for.</summary>
    public static async Task<OpenAlerts> OpenAsync(FeedbackDb db, int limit, CancellationToken cancellationToken)
    {
        var open = db.Alerts.AsNoTracking().Where(a => a.State == "open");
        var total = await open.LongCountAsync(cancellationToken);
        var items = await open
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Take(limit)
            .Join(db.Feedback, a => a.FeedbackId, f => f.Id, (a, f) => new OpenAlert(
                a.Id, a.FeedbackId, a.Sentiment, a.Topic, a.Confidence, a.CreatedAt, f.Text.Substring(0, 160)))
            .ToListAsync(cancellationToken);
        return new OpenAlerts(total, items.ConvertAll(a => a with { CreatedAt = DateTime.SpecifyKind(a.CreatedAt, DateTimeKind.Utc) }));
    }
}

internal sealed record OpenAlerts(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("items")] IReadOnlyList<OpenAlert> Items);

internal sealed record OpenAlert(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("feedback_id")] long FeedbackId,
    [property: JsonPropertyName("sentiment")] string Sentiment,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("confidence")] double Confidence,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("excerpt")] string Excerpt);
