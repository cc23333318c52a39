using System.Text.Json.Serialization;
using Feedback.Storage;
using Feedback.Storage.Alerts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Feedback.Api.Queries;
using Feedback.Api.Security;

namespace Feedback.Api.Alerts;

internal static class AlertEndpoints
{
    public static RouteGroupBuilder MapAlerts(this RouteGroupBuilder group)
    {
        group.MapGet("/", ListAsync)
            .RequireAuthorization(Scopes.Read)
            .WithName("ListAlerts")
            .WithSummary("Alert groups, newest first, with their feedback ids and delivery state per channel.");
        group.MapPost("/{id:long}/resolve", ResolveAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("ResolveAlert")
            .WithSummary("Close an alert group (PagerDuty incidents it opened are resolved too).");
        group.MapPost("/{id:long}/retry", RetryAsync)
            .RequireAuthorization(Scopes.Admin)
            .WithName("RetryAlertDeliveries")
            .WithSummary("Send an alert group's failed deliveries again (parked after a permanent answer or the last attempt allowed).");
        return group;
    }

    private static async Task<Results<Ok<AlertGroupList>, ProblemHttpResult>> ListAsync(
        string? state, string? limit, FeedbackDb db, CancellationToken cancellationToken)
    {
        // Both are read as text: an empty value means no filter, and a limit that is not a number gets the same
        // problem naming it as one out of range (bound as int?, it was a bare 400 without errors).
        state = string.IsNullOrEmpty(state) ? null : state;
        if (state is not (null or "open" or "resolved"))
        {
            return Problems.BadRequest("state must be open or resolved.", new Dictionary<string, string[]>(StringComparer.Ordinal) { ["state"] = ["Must be open or resolved."] });
        }

        if (!QueryEndpoints.TryParseLimit(limit, out var count))
        {
            return Problems.BadRequest(
                $"limit must be from 1 to {QueryEndpoints.MaxLimit}.", new Dictionary<string, string[]>(StringComparer.Ordinal) { ["limit"] = [QueryEndpoints.LimitRule] });
        }

        var query = db.AlertGroups.AsNoTracking();
        if (state is not null)
        {
            query = query.Where(g => g.State == state);
        }

        var groups = await query.OrderByDescending(g => g.Id).Take(count).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AlertGroupList(await ViewsAsync(db, groups, cancellationToken)));
    }

    private static async Task<Results<Ok<AlertGroupView>, ProblemHttpResult>> ResolveAsync(
        long id, FeedbackDb db, IFeedbackStore writer, TimeProvider time, CancellationToken cancellationToken)
    {
        var resolved = await writer.ResolveGroupAsync(new GroupResolution(id, time.GetUtcNow().UtcDateTime), cancellationToken);
        var alertGroup = await db.AlertGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == id, cancellationToken);
        if (alertGroup is null)
        {
            return Problems.NotFound($"There is no alert group {id}.");
        }

        if (!resolved && alertGroup.State != "resolved")
        {
            return Problems.Make(ProblemTypes.Conflict, $"Alert group {id} is {alertGroup.State}.", title: "The alert group cannot be resolved");
        }

        return TypedResults.Ok((await ViewsAsync(db, [alertGroup], cancellationToken))[0]);
    }

    private static async Task<Results<Ok<AlertGroupView>, ProblemHttpResult>> RetryAsync(
        long id, FeedbackDb db, IFeedbackStore writer, AlertSignal signal, TimeProvider time, CancellationToken cancellationToken)
    {
        var requeued = await writer.RetryFailedDeliveriesAsync(new DeliveryRetry(id, time.GetUtcNow().UtcDateTime), cancellationToken);
        var alertGroup = await db.AlertGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == id, cancellationToken);
        if (alertGroup is null)
        {
            return Problems.NotFound($"There is no alert group {id}.");
        }

        if (requeued == 0)
        {
            return Problems.Make(ProblemTypes.Conflict, $"Alert group {id} has no failed deliveries.", title: "Nothing to retry");
        }

        // The dispatcher sends them now rather than at its next poll.
        signal.Notify();
        return TypedResults.Ok((await ViewsAsync(db, [alertGroup], cancellationToken))[0]);
    }

    private static async Task<List<AlertGroupView>> ViewsAsync(FeedbackDb db, List<AlertGroup> groups, CancellationToken cancellationToken)
    {
        var ids = groups.Select(g => g.Id).ToList();
        var feedback = (await db.Alerts.AsNoTracking()
                .Where(a => a.GroupId != null && ids.Contains(a.GroupId.Value))
                .OrderBy(a => a.Id)
                .Select(a => new { GroupId = a.GroupId!.Value, a.FeedbackId })
                .ToListAsync(cancellationToken))
            .ToLookup(a => a.GroupId, a => a.FeedbackId);
        var deliveries = (await db.AlertDeliveries.AsNoTracking()
                .Where(d => ids.Contains(d.GroupId))
                .OrderBy(d => d.Id)
                .ToListAsync(cancellationToken))
            .ToLookup(d => d.GroupId);
        return groups.ConvertAll(g => new AlertGroupView(
            g.Id, g.Kind, g.Topic, g.Severity, g.State, g.Count,
            DateTime.SpecifyKind(g.FirstAt, DateTimeKind.Utc), DateTime.SpecifyKind(g.LastAt, DateTimeKind.Utc),
            g.ResolvedAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
            g.Summary,
            [.. feedback[g.Id]],
            [.. deliveries[g.Id].Select(d => new DeliveryView(
                d.Channel, d.Kind, d.State, d.Attempts, d.LastError,
                d.DeliveredAt is { } delivered ? DateTime.SpecifyKind(delivered, DateTimeKind.Utc) : null))]));
    }

    internal sealed record AlertGroupList([property: JsonPropertyName("items")] IReadOnlyList<AlertGroupView> Items);

    internal sealed record AlertGroupView(
        [property: JsonPropertyName("id")] long Id,
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("topic")] string Topic,
        [property: JsonPropertyName("severity")] string Severity,
        [property: JsonPropertyName("state")] string State,
        [property: JsonPropertyName("count")] int Count,
        [property: JsonPropertyName("first_at")] DateTime FirstAt,
        [property: JsonPropertyName("last_at")] DateTime LastAt,
        [property: JsonPropertyName("resolved_at")] DateTime? ResolvedAt,
        [property: JsonPropertyName("summary")] string Summary,
        [property: JsonPropertyName("feedback_ids")] IReadOnlyList<long> FeedbackIds,
        [property: JsonPropertyName("deliveries")] IReadOnlyList<DeliveryView> Deliveries);

    internal sealed record DeliveryView(
        [property: JsonPropertyName("channel")] string Channel,
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("state")] string State,
        [property: JsonPropertyName("attempts")] int Attempts,
        [property: JsonPropertyName("last_error")] string? LastError,
        [property: JsonPropertyName("delivered_at")] DateTime? DeliveredAt);
}
