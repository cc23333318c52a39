namespace Feedback.Analysis.Llm;

/// <summary>
/// The month's token budget (LLM_TOKEN_BUDGET_MONTHLY; null: no ceiling) and what tokens cost (LLM_PRICE_INPUT_PER_1K,
/// LLM_PRICE_OUTPUT_PER_1K; a price not given counts as 0, and with neither there is no cost to tell).
/// </summary>
public sealed record LlmPricing(long? MonthlyTokens, decimal? InputPer1K, decimal? OutputPer1K)
{
    public static LlmPricing None { get; } = new(null, null, null);

    public bool Priced => InputPer1K is not null || OutputPer1K is not null;

    /// <summary>What the tokens cost, or null without prices.</summary>
    public decimal? Cost(long inputTokens, long outputTokens) => Priced
        ? decimal.Round(((inputTokens * (InputPer1K ?? 0)) + (outputTokens * (OutputPer1K ?? 0))) / 1000m, 6)
        : null;

    /// <summary>Whether <paramref name="tokens"/> used this month leave no budget for another call.</summary>
    public bool IsSpent(long tokens) => MonthlyTokens is { } budget && tokens >= budget;

    /// <summary>The first day of the calendar month (UTC) that holds <paramref name="at"/>.</summary>
    public static DateTime MonthOf(DateTime at) => new(at.Year, at.Month, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The hour that holds <paramref name="at"/>: usage is counted by the hour.</summary>
    public static DateTime HourOf(DateTime at) => new(at.Year, at.Month, at.Day, at.Hour, 0, 0, DateTimeKind.Utc);
}
