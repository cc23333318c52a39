using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Storage;

/// <summary>
/// How background work (alert deliveries, provisional answers) is taken from the store. With one process per store
/// (SQLite) a plain read is enough; with several instances on one database (PostgreSQL) each row is claimed with a
/// lease, so two instances never work on the same row and a dead instance's rows are taken over once its lease ends.
/// </summary>
internal interface IWorkClaims
{
    /// <summary>
    /// Pending deliveries due by <paramref name="now"/> to one of <paramref name="channels"/>, oldest first, claimed until
    /// now + lease; none of <paramref name="held"/>, the ones this instance has queued already.
    /// </summary>
    Task<IReadOnlyList<AlertDelivery>> ClaimDeliveriesAsync(
        IReadOnlyCollection<string> channels, IReadOnlyCollection<long> held, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Gives claimed deliveries back unsent (a full queue, a stop), so another instance need not wait for the lease.</summary>
    Task ReleaseDeliveriesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Provisional rows after <paramref name="afterId"/> that nobody holds, in id order, claimed until now + lease.</summary>
    Task<IReadOnlyList<(long Id, string Text)>> ClaimProvisionalAsync(
        long afterId, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>Gives claimed provisional rows back unasked (no free LLM slot, a stop), so nobody waits for the lease.</summary>
    Task ReleaseProvisionalAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);
}

/// <summary>One process owns the SQLite file, so nothing is claimed: the dispatcher and the sweeper dedupe in memory.</summary>
internal sealed class SqliteWorkClaims(IServiceScopeFactory scopes) : IWorkClaims
{
    public async Task<IReadOnlyList<AlertDelivery>> ClaimDeliveriesAsync(
        IReadOnlyCollection<string> channels, IReadOnlyCollection<long> held, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.AlertDeliveries.AsNoTracking()
            .Where(d => d.State == "pending" && d.NextAttemptAt <= now && channels.Contains(d.Channel) && !held.Contains(d.Id))
            .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id)
            .Take(limit)
            .ToListAsync(cancellationToken);
    }

    public Task ReleaseDeliveriesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReleaseProvisionalAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IReadOnlyList<(long Id, string Text)>> ClaimProvisionalAsync(
        long afterId, DateTime now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        var rows = await db.Feedback.AsNoTracking()
            .Where(f => f.Status == "provisional" && f.Id > afterId)
            .OrderBy(f => f.Id)
            .Select(f => new { f.Id, f.Text })
            .Take(limit)
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => (r.Id, r.Text));
    }
}
