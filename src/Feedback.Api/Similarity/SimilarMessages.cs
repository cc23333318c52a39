using Feedback.Analysis.Deep;
using Feedback.Analysis.Similarity;
using Feedback.Storage;

namespace Feedback.Api.Similarity;

/// <summary>
/// The stored messages' sentence vectors, searchable in memory (<see cref="VectorIndex"/>). This instance's writes
/// join it after their commit (<see cref="IndexedFeedbackStore"/>); everything else (rows stored before the start,
/// rows other instances wrote to the same database) is read from the store by <see cref="CatchUpAsync"/>, which every
/// search runs first and which reads only what the index lacks.
/// </summary>
internal sealed partial class SimilarMessages(IBackgroundReads reads, TimeProvider time, ILogger<SimilarMessages> logger)
{
    /// <summary>
    /// Longer than any write transaction: an id taken by a transaction that had not committed when a catch-up read past it
    /// is committed (or gone) this long after, so each catch-up reads again the ids of the last this-long.
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    /// <summary>Above this many unindexed ids a catch-up reads a range in pages instead of a list of ids (the load at start).</summary>
    private const int ListedAtMost = 500;

    private const int Page = 2000;

    private readonly SemaphoreSlim _catchingUp = new(1, 1);
    private readonly Queue<(DateTimeOffset At, long Highest)> _reads = new();

    /// <summary>Every row at or below this id that has a vector is in the index.</summary>
    private long _settled;

    public VectorIndex Index { get; } = new(SentenceEncoder.Dimensions);

    /// <summary>Adds (or replaces) a committed row's vector; a row without one is left out.</summary>
    public void Add(long id, byte[]? embedding)
    {
        if (embedding is null)
        {
            return;
        }

        Span<float> vector = stackalloc float[SentenceEncoder.Dimensions];
        if (StoredEmbedding.TryDecode(embedding, vector))
        {
            Index.Set(id, vector);
        }
    }

    /// <summary>
    /// Reads from the store the vectors of rows the index lacks: the ids with a vector above the settled mark (the
    /// primary key's range, a minute of writes), then the vectors of those not indexed yet.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        await _catchingUp.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var settledAfter = _settled;
            while (_reads.TryPeek(out var read) && read.At <= now - Settle)
            {
                // This read starts after that one's transactions have all ended: it sees every row below its highest id.
                settledAfter = Math.Max(settledAfter, read.Highest);
                _reads.Dequeue();
            }

            // Plain reads on SQLite (IBackgroundReads), not EF Core: this runs at every start, and a server nobody
            // searches then never builds EF's query pipeline (FootprintTests).
            var highest = await reads.HighestIdAsync(cancellationToken);
            var ids = await reads.EmbeddedIdsAfterAsync(_settled, cancellationToken);
            var missing = ids.Where(id => !Index.Contains(id)).ToList();
            if (missing.Count > ListedAtMost)
            {
                await ReadRangeAsync(missing.Min() - 1, cancellationToken);
            }
            else if (missing.Count > 0)
            {
                (await reads.EmbeddingsOfAsync(missing, cancellationToken)).ForEach(r => Add(r.Id, r.Embedding));
            }

            // The highest id read before this read, not only the highest with a vector: rows stored without one
            // (CLASSIFIER=fast, a fast import) settle too, so later searches do not walk them again.
            var readThrough = Math.Max(highest, ids.Count > 0 ? ids.Max() : 0);
            if (readThrough > _settled)
            {
                _reads.Enqueue((now, readThrough));
            }

            _settled = settledAfter;
        }
        finally
        {
            _catchingUp.Release();
        }
    }

    /// <summary>Starts the index from the store; a store that cannot be read now is read by the first search instead.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CatchUpAsync(cancellationToken);
            LogLoaded(logger, Index.Count);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogLoadFailed(logger, exception);
        }
    }

    private async Task ReadRangeAsync(long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            var rows = await reads.VectorRowsAfterAsync(after, Page, cancellationToken);
            foreach (var row in rows.Where(r => !Index.Contains(r.Id)))
            {
                Add(row.Id, row.Embedding);
            }

            if (rows.Count < Page)
            {
                return;
            }

            after = rows[^1].Id;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Similarity index loaded: {Count} message vectors")]
    private static partial void LogLoaded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Similarity index not loaded at start; the first search reads the store")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);
}

/// <summary>Loads the similarity index when the host starts, in the background, so the start does not wait for it.</summary>
internal sealed class SimilarityIndexLoader(SimilarMessages similar) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => similar.LoadAsync(stoppingToken);
}
