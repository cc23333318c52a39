using Feedback.Analysis.Llm;

namespace Feedback.Storage;

/// <summary>
/// LLM_TOKEN_BUDGET_MONTHLY over the store's hourly counts, which every instance and the CLI write to: each LLM call
/// first reads the month's total, so a call made on one instance counts on all of them as soon as its answer is
/// committed. The read is a sum over at most 744 rows, through the primary key. Once the month
/// is spent it stays spent (counts only grow), so no more reads are made until the month turns. The ceiling can be
/// passed by the calls already under way when it is reached (their tokens are known only when they answer): at most
/// AI_MAX_CONCURRENCY calls an instance.
/// </summary>
internal sealed partial class StoredLlmBudget(
    Func<DateTime, DateTime, CancellationToken, Task<LlmUsage>> readUsage, LlmPricing pricing, TimeProvider time, ILogger logger) : ILlmBudget
{
    // The month found spent, as ticks of its first day (0: none), read and written without a lock by concurrent calls.
    private long _spentMonth;

    public async ValueTask<bool> IsSpentAsync(CancellationToken cancellationToken)
    {
        var month = LlmPricing.MonthOf(time.GetUtcNow().UtcDateTime);
        if (Volatile.Read(ref _spentMonth) == month.Ticks)
        {
            return true;
        }

        try
        {
            var usage = await readUsage(month, month.AddMonths(1), cancellationToken);
            if (!pricing.IsSpent(usage.Tokens))
            {
                return false;
            }

            Volatile.Write(ref _spentMonth, month.Ticks);
            LogSpent(logger, usage.Tokens, pricing.MonthlyTokens ?? 0);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A store that cannot be read cannot take the answer either; the call's tokens are counted when it can.
            LogReadFailed(logger, exception);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The month's LLM token budget is spent ({Tokens} of {Budget} tokens): the local classifier answers until the month turns")]
    private static partial void LogSpent(ILogger logger, long tokens, long budget);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The month's LLM usage could not be read; the LLM is asked as if budget were left")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}
