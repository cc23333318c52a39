using Feedback.Analysis;
using Feedback.Api.Alerts;
using Feedback.Api.Operations;
using Feedback.Api.Revisions;
using Feedback.Storage;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Submissions;

/// <summary>A checked message and the idempotency key it was sent with (already a digest, see <see cref="IdempotencyKeyDigest"/>).</summary>
internal sealed record KeyedSubmission(Submission Submission, string? IdempotencyKey);

/// <summary>What became of one message: its write, and whether its answer came from the cache (for the request log).</summary>
internal sealed record Submitted(WriteResult Written, bool CacheHit);

/// <summary>
/// The one write path of POST /feedback and POST /feedback/batch: classify, decide the alert, join a shared alert group,
/// store, then follow a provisional answer's upgrade and count what was stored. A single message is written through the
/// store's group commit with other requests; a batch in one transaction of its own.
/// </summary>
internal sealed class SubmitHandler(
    Analyzer analyzer,
    AlertRule alertRule,
    SharedAlertGroups alertGroups,
    IFeedbackStore store,
    ProvisionalUpgrades upgrades,
    FeedbackMetrics metrics,
    TimeProvider time,
    IServiceScopeFactory scopes)
{
    public async Task<Submitted> SubmitAsync(KeyedSubmission submission, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var prepared = await PrepareAsync(submission, cancellationToken);

        // The row is written whatever happens to the request from here on: no cancellation token.
        var written = await store.WriteAsync(prepared.Item, CancellationToken.None);
        return Finish(prepared, written, started);
    }

    /// <summary>Every message of a batch, classified together and written in one transaction; answers in input order.</summary>
    public async Task<IReadOnlyList<Submitted>> SubmitManyAsync(IReadOnlyList<KeyedSubmission> submissions, CancellationToken cancellationToken)
    {
        if (submissions.Count == 0)
        {
            return [];
        }

        var started = time.GetTimestamp();
        var prepared = await Task.WhenAll(submissions.Select(s => PrepareAsync(s, cancellationToken)));
        var written = await store.WriteBatchAsync([.. prepared.Select(p => p.Item)], CancellationToken.None);
        return [.. prepared.Select((p, i) => Finish(p, written[i], started))];
    }

    private async Task<Prepared> PrepareAsync(KeyedSubmission keyed, CancellationToken cancellationToken)
    {
        var (result, upgrade, usage) = await analyzer.AnalyzeAsync(keyed.Submission.Text, cancellationToken);
        var alert = alertRule.Triggers(result);
        var record = SubmissionRecords.ToRecord(keyed.Submission, result, alert, time.GetUtcNow().UtcDateTime, keyed.IdempotencyKey, analyzer.Taxonomy);
        var group = alert && !await StoredBeforeAsync(keyed.IdempotencyKey)
            ? await alertGroups.JoinAsync(record.Topic, record.Text, record.Embedding, record.CreatedAt, keyed.IdempotencyKey)
            : null;
        return new Prepared(new NewFeedback(record, alert, group, Followed: upgrade is not null, usage), upgrade, result.CacheHit);
    }

    private Submitted Finish(Prepared prepared, WriteResult written, long started)
    {
        if (prepared.Upgrade is { } upgrade)
        {
            upgrades.Follow(written.Outcome == WriteOutcome.Created ? written.Record.Id : null, upgrade);
        }

        if (written.Outcome == WriteOutcome.Created)
        {
            var record = written.Record;
            metrics.Stored(record.Sentiment, record.Topic, record.ProcessingMethod, time.GetElapsedTime(started));
        }

        return new Submitted(written, prepared.CacheHit);
    }

    /// <summary>
    /// Whether a row with this idempotency key is stored already, asked only before joining a group shared through Redis:
    /// joining counts the alert in the group on every instance, and a request sent again is answered with the stored row
    /// (or refused, with another body), so it must not count a second time. One read by the key's unique index, for
    /// alerting requests that carry a key; without Redis the writer decides alone, inside its transaction. Two sends of one
    /// key in flight together both find no row here; the join itself tells them apart (<see cref="SharedAlertGroups"/>).
    /// </summary>
    private ValueTask<bool> StoredBeforeAsync(string? idempotencyKey)
    {
        if (idempotencyKey is null || !alertGroups.IsShared)
        {
            return ValueTask.FromResult(false);
        }

        return new ValueTask<bool>(HasRowAsync(idempotencyKey));
    }

    /// <summary>
    /// Apart from <see cref="StoredBeforeAsync"/>: the query's lambda is an expression tree, and compiling a method that
    /// builds one loads System.Linq.Expressions, which a server without Redis would otherwise map at its first alert.
    /// </summary>
    private async Task<bool> HasRowAsync(string idempotencyKey)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return await db.Feedback.AsNoTracking().AnyAsync(f => f.IdempotencyKey == idempotencyKey, CancellationToken.None);
    }

    private sealed record Prepared(NewFeedback Item, Task<LaterAnswer>? Upgrade, bool CacheHit);
}
