using System.Diagnostics;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Themes;
using Feedback.Api.Alerts;
using Feedback.Storage;

namespace Feedback.Api.Themes;

/// <summary>The themes the requests read: the last snapshot the refresher made.</summary>
internal sealed class CurrentThemes
{
    private ThemeSnapshot _snapshot = ThemeSnapshot.Empty;

    public ThemeSnapshot Snapshot => Volatile.Read(ref _snapshot);

    public void Replace(ThemeSnapshot snapshot) => Volatile.Write(ref _snapshot, snapshot);
}

/// <summary>
/// Keeps <see cref="CurrentThemes"/> current in the background, never in a request: every few seconds it reads the
/// messages stored since the snapshot (by this instance or any other on the database) and lets each join its nearest
/// theme; every THEMES_REFRESH_SECONDS, when messages came since, it clusters the horizon again from the store, under a
/// time budget (past it the clustering is stopped and the last snapshot stays). The same stored messages give the same
/// themes on every instance. After each change it lets <see cref="EmergingThemes"/> raise the alerts the themes call for
/// (again at the next turn when that failed), and after each clustering asks for the titles new themes lack (THEME_TITLES=llm).
/// </summary>
internal sealed partial class ThemeRefresher(
    CurrentThemes current, ThemeSettings settings, IBackgroundReads reads, EmergingThemes alerts, ThemeTitles titles, TimeProvider time,
    ILogger<ThemeRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan JoinEvery = TimeSpan.FromSeconds(2);

    private const int JoinPage = 2000;

    /// <summary>How many refresh periods may pass without a full clustering, when no new row called for one.</summary>
    private const int StaleAfter = 10;

    /// <summary>Every id up to here has been looked at by a join, with or without a vector.</summary>
    private long _scannedThrough;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refreshEvery = TimeSpan.FromSeconds(settings.RefreshSeconds);
        var lastFull = DateTimeOffset.MinValue;
        var changedSinceFull = true;
        var alertsDue = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // New rows are noticed by id; a row stored earlier that gets its vector later (a provisional answer the
                // encoder upgraded) is not, so a full clustering also runs every StaleAfter refresh periods regardless.
                var stale = time.GetUtcNow() - lastFull >= refreshEvery * StaleAfter;
                if ((changedSinceFull || stale) && time.GetUtcNow() - lastFull >= refreshEvery)
                {
                    lastFull = time.GetUtcNow();
                    var refreshed = await RefreshAsync(stoppingToken);
                    changedSinceFull = !refreshed;
                    alertsDue |= refreshed;
                    if (refreshed)
                    {
                        titles.Request(current.Snapshot, stoppingToken);
                    }
                }
                else
                {
                    var joined = await JoinNewAsync(stoppingToken) > 0;
                    changedSinceFull |= joined;
                    alertsDue |= joined;
                }

                if (alertsDue)
                {
                    await alerts.CheckAsync(current.Snapshot, stoppingToken);
                    alertsDue = false;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, exception);
            }

            await Task.Delay(JoinEvery, time, stoppingToken);
        }
    }

    /// <summary>Clusters the horizon from the store; false when the time budget stopped it.</summary>
    private async Task<bool> RefreshAsync(CancellationToken stoppingToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        budget.CancelAfter(TimeSpan.FromSeconds(settings.TimeBudgetSeconds));
        var started = Stopwatch.GetTimestamp();
        try
        {
            var now = time.GetUtcNow().UtcDateTime;
            // Plain reads on SQLite (IBackgroundReads), not EF Core: this runs at every start, and a server nobody
            // reads from then never builds EF's query pipeline (FootprintTests).
            var rows = await reads.VectorRowsSinceAsync(now.AddDays(-settings.HorizonDays), settings.MaxMessages, budget.Token);

            var dimensions = SentenceEncoder.Dimensions;
            var sources = new List<ThemeSource>(rows.Count);
            var vectors = new float[rows.Count * dimensions];
            foreach (var row in rows)
            {
                if (StoredEmbedding.TryDecode(row.Embedding, vectors.AsSpan(sources.Count * dimensions, dimensions)))
                {
                    sources.Add(new ThemeSource(row.Id, DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc), row.Sentiment, row.Topic, row.Text!));
                }
            }

            rows.Clear();
            var snapshot = await Task.Run(
                () => ThemeSnapshot.Build(sources, vectors.AsSpan(0, sources.Count * dimensions).ToArray(), dimensions, settings.Thresholds, now, budget.Token),
                budget.Token);
            current.Replace(snapshot);
            var elapsed = Stopwatch.GetElapsedTime(started);
            LogRefreshed(logger, sources.Count, snapshot.Themes.Count, elapsed.TotalMilliseconds);

            // Messages stored while it ran join now.
            await JoinNewAsync(stoppingToken);
            return true;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            LogOverBudget(logger, settings.TimeBudgetSeconds);
            return false;
        }
    }

    /// <summary>
    /// Messages with a vector stored after the snapshot's newest and after the ids already looked at, each joined to its
    /// nearest theme; how many. Rows without a vector (CLASSIFIER=fast, a fast import) are looked at once: the read by id
    /// starts past them next time instead of walking the same rows every turn.
    /// </summary>
    internal async Task<int> JoinNewAsync(CancellationToken cancellationToken)
    {
        var snapshot = current.Snapshot;
        if (snapshot.ComputedAt == DateTime.MinValue)
        {
            return 0;
        }

        var after = Math.Max(snapshot.HighestId, _scannedThrough);
        var highest = await reads.HighestIdAsync(cancellationToken);
        if (highest <= after)
        {
            return 0;
        }

        var rows = await reads.VectorRowsAfterAsync(after, JoinPage, cancellationToken);
        // A page that is not full read every row committed by then, so at least every id up to the highest read before it.
        _scannedThrough = rows.Count == JoinPage ? rows[^1].Id : Math.Max(highest, rows.Count > 0 ? rows[^1].Id : 0);
        Span<float> vector = stackalloc float[SentenceEncoder.Dimensions];
        foreach (var row in rows)
        {
            if (StoredEmbedding.TryDecode(row.Embedding, vector))
            {
                snapshot.Join(row.Id, DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc), row.Sentiment, row.Topic, vector);
            }
        }

        return rows.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Themes refreshed: {Messages} messages, {Themes} themes in {ElapsedMs:0} ms")]
    private static partial void LogRefreshed(ILogger logger, int messages, int themes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Themes not refreshed: the clustering took longer than THEMES_TIME_BUDGET_SECONDS ({Seconds} s); the last themes stay")]
    private static partial void LogOverBudget(ILogger logger, int seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Themes could not be refreshed; trying again shortly")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
