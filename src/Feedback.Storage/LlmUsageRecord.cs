using Feedback.Analysis.Llm;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Storage;

/// <summary>
/// The LLM calls of one hour (UTC) and the tokens the provider billed for them, summed by every writer of the store: an
/// answer's row and its tokens are committed together, and instances sharing a database add to the same rows, so the
/// month's count (the budget's) and a window's (/stats's, whose windows are whole hours) are one sum over at most 744 rows.
/// </summary>
internal sealed class LlmUsageRecord
{
    /// <summary>The hour's start.</summary>
    public DateTime Hour { get; set; }

    public long Calls { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }
}

/// <summary>Sums of <c>llm_usage</c> over whole hours, on either store.</summary>
internal static class LlmUsageReads
{
    /// <summary>The sums over the hours starting in [from, to); CAST keeps PostgreSQL's sum of bigints a bigint.</summary>
    private const string SumSql =
        "SELECT CAST(coalesce(sum(calls), 0) AS bigint), CAST(coalesce(sum(input_tokens), 0) AS bigint), CAST(coalesce(sum(output_tokens), 0) AS bigint) " +
        "FROM llm_usage WHERE hour >= @from AND hour < @to";

    /// <summary>Through a plain connection (the SQLite background reads, the CLI), whose SQL both stores understand.</summary>
    public static async Task<LlmUsage> SumAsync(System.Data.Common.DbConnection connection, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = SumSql;
        Add(command, "@from", from);
        Add(command, "@to", to);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new LlmUsage((int)reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>Through the EF model (the PostgreSQL background reads, /stats on either store).</summary>
    public static async Task<LlmUsage> SumAsync(FeedbackDb db, DateTime from, DateTime to, CancellationToken cancellationToken)
    {
        from = DateTime.SpecifyKind(from, DateTimeKind.Utc);
        to = DateTime.SpecifyKind(to, DateTimeKind.Utc);
        var sums = await db.LlmUsage.AsNoTracking()
            .Where(u => u.Hour >= from && u.Hour < to)
            .GroupBy(_ => 1)
            .Select(g => new { Calls = g.Sum(u => u.Calls), Input = g.Sum(u => u.InputTokens), Output = g.Sum(u => u.OutputTokens) })
            .FirstOrDefaultAsync(cancellationToken);
        return sums is null ? LlmUsage.None : new LlmUsage((int)sums.Calls, sums.Input, sums.Output);
    }

    private static void Add(System.Data.Common.DbCommand command, string name, DateTime value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;

        // PostgreSQL's timestamptz takes UTC times only; the SQLite file compares the same text the writer stores.
        parameter.Value = DateTime.SpecifyKind(value, DateTimeKind.Utc);
        command.Parameters.Add(parameter);
    }
}
