using Feedback.Analysis;
using Feedback.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Revisions;

/// <summary>
/// Finds provisional rows that nobody in this process is upgrading (left by a restart, or answered while
/// every LLM slot was busy) and asks the LLM for them, a few at a time. Pending upgrades are rows, so a
/// crash loses none.
/// </summary>
internal sealed partial class RevisionSweeper(
    IServiceScopeFactory scopes,
    Analyzer analyzer,
    ProvisionalUpgrades upgrades,
    SweepSettings settings,
    TimeProvider time,
    ILogger<RevisionSweeper> logger) : BackgroundService
{
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

    /// <summary>One pass: returns how many rows it revised.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        List<(long Id, string Text)> rows;
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
            rows = (await db.Feedback.AsNoTracking()
                    .Where(f => f.Status == "provisional")
                    .OrderBy(f => f.Id)
                    .Select(f => new { f.Id, f.Text })
                    .Take(settings.BatchSize)
                    .ToListAsync(cancellationToken))
                .Where(r => !upgrades.IsFollowing(r.Id))
                .Select(r => (r.Id, r.Text))
                .ToList();
        }

        var revised = 0;
        await Parallel.ForEachAsync(
            rows,
            new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken },
            async (row, _) =>
            {
                var (attempted, answer) = await analyzer.UpgradeAsync(row.Text);
                if (!attempted && analyzer.Ai is not null)
                {
                    return;
                }

                var reason = analyzer.Ai is null
                    ? "no LLM is configured any more: the local answer stands"
                    : answer is null ? "the LLM gave no usable answer: the local answer stands" : "the LLM answered on a later attempt";
                await upgrades.ApplyAsync(row.Id, answer, reason);
                Interlocked.Increment(ref revised);
            });
        return revised;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A sweep of provisional answers failed; the next one retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

internal sealed record SweepSettings(TimeSpan Interval, int BatchSize, int Parallelism);
