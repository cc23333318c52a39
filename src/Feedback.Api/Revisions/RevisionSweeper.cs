using System.Collections.Concurrent;
using Feedback.Analysis;
using Feedback.Storage;

namespace Feedback.Api.Revisions;

/// <summary>
/// Finds provisional rows that nobody in this process is upgrading (left by a restart, or answered while every LLM
/// slot or the deep model's queue was full) and asks again for them, a few at a time: the LLM when one is configured,
/// else the deep model. Pending upgrades are rows, so a
/// crash loses none. Rows are claimed through <see cref="IWorkClaims"/>, so with several instances on one database
/// each provisional row is asked about by one of them.
/// </summary>
internal sealed partial class RevisionSweeper(
    IWorkClaims claims,
    Analyzer analyzer,
    ProvisionalUpgrades upgrades,
    SweepSettings settings,
    TimeProvider time,
    ILogger<RevisionSweeper> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<long, bool> _asking = new();

    /// <summary>
    /// A graceful stop gives back the rows this instance holds, so the next instance (or this one restarted) revises them
    /// at its next sweep instead of after the lease.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        long[] held = [.. _asking.Keys, .. upgrades.Following];
        try
        {
            await claims.ReleaseProvisionalAsync(held, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // Their leases end on their own; a sweep takes them then.
            LogReleaseFailed(logger, held.Length, exception);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Interval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// One pass over up to <see cref="SweepSettings.BatchSize"/> rows, claimed a few at a time (as many as are asked in
    /// parallel) so another instance can take the rest meanwhile: returns how many rows it revised.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var revised = 0;
        var seen = 0;
        var afterId = 0L;
        while (seen < settings.BatchSize)
        {
            var claimed = await claims.ClaimProvisionalAsync(
                afterId, time.GetUtcNow().UtcDateTime, settings.Lease, Math.Min(settings.Parallelism * 2, settings.BatchSize - seen), cancellationToken);
            if (claimed.Count == 0)
            {
                break;
            }

            seen += claimed.Count;
            afterId = claimed[^1].Id;
            var unasked = new ConcurrentBag<long>();
            await Parallel.ForEachAsync(
                claimed.Where(r => !upgrades.IsFollowing(r.Id)),
                new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken },
                async (row, rowCancellation) =>
                {
                    _asking[row.Id] = true;
                    try
                    {
                        var later = await analyzer.UpgradeAsync(row.Text, rowCancellation);
                        if (!later.Attempted && (analyzer.Ai is not null || analyzer.Deep is not null))
                        {
                            unasked.Add(row.Id);
                            return;
                        }

                        var reason = later.Result is { } answer ? ProvisionalUpgrades.Reason(answer, late: false)
                            : analyzer.Ai is null && analyzer.Deep is null ? "neither an LLM nor the deep model is configured any more: the local answer stands"
                            : analyzer.Ai is null ? "the deep model gave no answer: the lexical answer stands"
                            : later.BudgetSpent ? "the month's LLM token budget is spent: the local answer stands"
                            : "the LLM gave no usable answer: the local answer stands";
                        await upgrades.ApplyAsync(row.Id, later, reason);
                        Interlocked.Increment(ref revised);
                    }
                    finally
                    {
                        _asking.TryRemove(KeyValuePair.Create(row.Id, true));
                    }
                });

            // Rows that found every LLM slot busy go back at once: held under a lease, the next sweep would pass them over.
            await claims.ReleaseProvisionalAsync([.. unasked], cancellationToken);
        }

        return revised;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sweep of provisional answers failed; the next one retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back {Count} provisional rows at the stop; their leases end on their own")]
    private static partial void LogReleaseFailed(ILogger logger, int count, Exception exception);
}

/// <param name="Lease">How long a claimed row is left to this instance: longer than one LLM call may take.</param>
internal sealed record SweepSettings(TimeSpan Interval, int BatchSize, int Parallelism, TimeSpan Lease);
