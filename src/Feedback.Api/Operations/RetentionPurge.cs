using Feedback.Api.Similarity;
using Feedback.Storage;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Operations;

/// <summary>
/// RETENTION_DAYS: at start and then every hour, purges the messages older than that many days, a batch of
/// <see cref="MessageRetention.BatchSize"/> per transaction with a pause between batches so requests' writes are not
/// held up (<see cref="MessageRetention"/>; their counts stay in the rollups, so history charts survive). Logged with the
/// count only, never a text or an id, and counted in feedback_retention_purged_messages_total. Every instance on one
/// PostgreSQL database may run it: two purging at once delete disjoint or already-deleted rows.
/// </summary>
internal sealed partial class RetentionPurge(
    int days, IServiceScopeFactory scopes, SimilarMessages similar, FeedbackMetrics metrics, TimeProvider time, ILogger<RetentionPurge> logger)
    : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);
    private static readonly TimeSpan BetweenBatches = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var purged = await PurgeAsync(stoppingToken);
                if (purged > 0)
                {
                    LogPurged(logger, purged, days);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The store is busy or away, or a batch failed: the next hour's run takes up where this one stopped, and
                // the service keeps running (a background failure must not stop the host).
                LogFailed(logger, exception);
            }

            await Task.Delay(Every, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Purges every message older than the cutoff, batch after batch; how many went.</summary>
    internal async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromDays(days);
        var total = 0;
        while (true)
        {
            IReadOnlyList<long> ids;
            using (var scope = scopes.CreateScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
                await db.Database.OpenConnectionAsync(cancellationToken);
                try
                {
                    ids = await MessageRetention.PurgeBatchAsync(db.Database.GetDbConnection(), cutoff, MessageRetention.BatchSize, cancellationToken);
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            }

            foreach (var id in ids)
            {
                similar.Index.Remove(id);
            }

            total += ids.Count;
            metrics.Purged(ids.Count);
            if (ids.Count < MessageRetention.BatchSize)
            {
                return total;
            }

            await Task.Delay(BetweenBatches, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention purged {Messages} messages older than {Days} days (their counts stay in the rollups)")]
    private static partial void LogPurged(ILogger logger, int messages, int days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention purge failed; it runs again within the hour")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
