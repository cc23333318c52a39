using Feedback.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SQLitePCL;

namespace Feedback.Api.Queries;

/// <summary>
/// <c>?q=</c> over each store's full-text index (the TextSearch migrations): SQLite's FTS5 table feedback_search, kept by
/// triggers on feedback, and PostgreSQL's GIN index on feedback_search_document(text). Both cut and fold words the same
/// way, so a search finds the same rows on either store. A search that outlasts its time budget is stopped by the store
/// itself (SQLite: a progress handler; PostgreSQL: statement_timeout) and reported as <see cref="SearchTimeoutException"/>.
/// </summary>
internal static class TextSearch
{
    /// <summary>
    /// How many SQLite VM instructions run between two looks at the clock: often enough to stop within a few
    /// milliseconds of the budget, rarely enough that the callback costs nothing a reader would measure.
    /// </summary>
    private const int InstructionsBetweenChecks = 100;

    /// <summary>The ids of the rows that hold every term, as a subquery the list's other filters and its keyset order compose with.</summary>
    public static IQueryable<FeedbackRecord> Matching(this IQueryable<FeedbackRecord> query, FeedbackDb db, SearchTerms terms)
    {
        IQueryable<long> ids = db.Database.IsNpgsql()
            ? db.Database.SqlQuery<long>(
                $"SELECT id AS \"Value\" FROM feedback WHERE feedback_search_document(text) @@ to_tsquery('simple', unaccent({terms.ToTsQuery()}))")
            : db.Database.SqlQuery<long>($"SELECT rowid AS \"Value\" FROM feedback_search WHERE feedback_search MATCH {terms.ToFts5()}");
        return query.Where(f => ids.Contains(f.Id));
    }

    /// <summary>
    /// Runs <paramref name="read"/> with the store told to stop it after <paramref name="budget"/>. On PostgreSQL the
    /// limit is the transaction's statement_timeout (SET LOCAL, so the pooled connection keeps its own); on SQLite a
    /// progress handler compares <paramref name="time"/> with the deadline while the statement runs.
    /// </summary>
    public static async Task<T> WithinAsync<T>(FeedbackDb db, TimeSpan budget, TimeProvider time, Func<Task<T>> read, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var milliseconds = (long)Math.Ceiling(budget.TotalMilliseconds);
            await db.Database.ExecuteSqlAsync($"SELECT set_config('statement_timeout', {milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}, true)", cancellationToken);
            try
            {
                var result = await read();
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.QueryCanceled && !cancellationToken.IsCancellationRequested)
            {
                throw new SearchTimeoutException(budget, exception);
            }
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        var handle = ((SqliteConnection)db.Database.GetDbConnection()).Handle;
        var deadline = time.GetUtcNow() + budget;
        raw.sqlite3_progress_handler(handle, InstructionsBetweenChecks, _ => time.GetUtcNow() > deadline ? 1 : 0, null);
        try
        {
            return await read();
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode == raw.SQLITE_INTERRUPT)
        {
            throw new SearchTimeoutException(budget, exception);
        }
        finally
        {
            raw.sqlite3_progress_handler(handle, 0, null, null);
            await db.Database.CloseConnectionAsync();
        }
    }
}

/// <summary>
/// The clock a search's time budget is read from: the app's own, registered apart so that a test can move the search's
/// time alone without turning every background loop that waits on the app's clock into a busy one.
/// </summary>
internal sealed record SearchClock(TimeProvider Time);

/// <summary>A search the store stopped at its time budget: the client is told to narrow it, nothing is wrong with the store.</summary>
internal sealed class SearchTimeoutException(TimeSpan budget, Exception inner)
    : Exception($"The search took longer than its budget of {budget.TotalMilliseconds:0} ms.", inner)
{
    public TimeSpan Budget { get; } = budget;
}
