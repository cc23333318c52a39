using System.Text.Json.Serialization;
using Feedback.Storage;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Queries;

/// <summary>
/// Every read of the alert tables that the stats and the dashboard make, in one place, so that a change to
/// how alerts are stored means changing this file only.
/// </summary>
internal static class AlertReads
{
    public const int MaxOpen = 100;

    /// <summary>The latest messages shown per group; <c>count</c> says how many it holds.</summary>
    public const int MessagesPerGroup = 20;

    /// <summary>
    /// The open alert groups, the most recently active first, each with its latest messages (an excerpt each) and
    /// the state of its deliveries per channel.
    /// </summary>
    public static async Task<OpenAlertGroups> OpenGroupsAsync(FeedbackDb db, int limit, CancellationToken cancellationToken)
    {
        var open = db.AlertGroups.AsNoTracking().Where(g => g.State == "open");
        var total = await open.LongCountAsync(cancellationToken);
        var groups = await open.OrderByDescending(g => g.LastAt).ThenByDescending(g => g.Id).Take(limit).ToListAsync(cancellationToken);
        var ids = groups.ConvertAll(g => g.Id);

        // The latest members of each group shown, ids first, texts only for the messages shown: each group's read stops at
        // MessagesPerGroup through the (group_id, id) index, so a group of a hundred thousand alerts costs what one of
        // twenty does (PostgreSQL: one query, a LATERAL join per group; SQLite: a query per group, in process).
        var members = (await LatestMembersAsync(db, ids, cancellationToken)).ToLookup(a => a.GroupId);
        var shown = groups.SelectMany(g => members[g.Id].OrderByDescending(a => a.Id).Take(MessagesPerGroup)).Select(a => a.Id).ToList();
        var messages = (await db.Alerts.AsNoTracking()
                .Where(a => shown.Contains(a.Id))
                .Join(db.Feedback, a => a.FeedbackId, f => f.Id, (a, f) => new { a.Id, a.FeedbackId, a.Sentiment, a.Confidence, f.CreatedAt, Excerpt = f.Text.Substring(0, 160) })
                .ToListAsync(cancellationToken))
            .ToDictionary(m => m.Id);
        var deliveries = (await db.AlertDeliveries.AsNoTracking()
                .Where(d => ids.Contains(d.GroupId))
                .OrderBy(d => d.Id)
                .ToListAsync(cancellationToken))
            .ToLookup(d => d.GroupId);

        return new OpenAlertGroups(total, groups.ConvertAll(g => new OpenAlertGroup(
            g.Id, g.Kind, g.Topic, g.Severity, g.Count, Utc(g.FirstAt), Utc(g.LastAt), g.Summary,
            [.. members[g.Id].OrderByDescending(a => a.Id).Take(MessagesPerGroup).Select(a => messages[a.Id]).Select(m =>
                new AlertGroupMessage(m.FeedbackId, m.Sentiment, m.Confidence, Utc(m.CreatedAt), m.Excerpt))],
            [.. deliveries[g.Id].Select(d => new AlertGroupDelivery(d.Channel, d.Kind, d.State, d.Attempts, d.LastError))])));
    }

    private static async Task<List<GroupMember>> LatestMembersAsync(FeedbackDb db, List<long> ids, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return await db.AlertGroups.AsNoTracking()
                .Where(g => ids.Contains(g.Id))
                .SelectMany(
                    g => db.Alerts.Where(a => a.GroupId == g.Id && a.State != "superseded").OrderByDescending(a => a.Id).Take(MessagesPerGroup),
                    (g, a) => new GroupMember(g.Id, a.Id, a.FeedbackId))
                .ToListAsync(cancellationToken);
        }

        var members = new List<GroupMember>();
        foreach (var id in ids)
        {
            members.AddRange(await db.Alerts.AsNoTracking()
                .Where(a => a.GroupId == id && a.State != "superseded")
                .OrderByDescending(a => a.Id)
                .Take(MessagesPerGroup)
                .Select(a => new GroupMember(id, a.Id, a.FeedbackId))
                .ToListAsync(cancellationToken));
        }

        return members;
    }

    private sealed record GroupMember(long GroupId, long Id, long FeedbackId);

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}

internal sealed record OpenAlertGroups(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("items")] IReadOnlyList<OpenAlertGroup> Items);

/// <summary>
/// One open group: near-duplicate complaints of one topic (kind <c>feedback</c>), a topic spike (kind <c>spike</c>), or the
/// month's LLM token budget reaching 80 % or 100 % (kind <c>llm_budget</c>).
/// </summary>
internal sealed record OpenAlertGroup(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("first_at")] DateTime FirstAt,
    [property: JsonPropertyName("last_at")] DateTime LastAt,
    [property: JsonPropertyName("summary")] string Summary,
    [property: JsonPropertyName("messages")] IReadOnlyList<AlertGroupMessage> Messages,
    [property: JsonPropertyName("deliveries")] IReadOnlyList<AlertGroupDelivery> Deliveries);

internal sealed record AlertGroupMessage(
    [property: JsonPropertyName("feedback_id")] long FeedbackId,
    [property: JsonPropertyName("sentiment")] string Sentiment,
    [property: JsonPropertyName("confidence")] double Confidence,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("excerpt")] string Excerpt);

internal sealed record AlertGroupDelivery(
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("last_error")] string? LastError);
