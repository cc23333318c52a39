namespace Feedback.Analysis.Llm;

/// <summary>
/// What LLM calls cost, as the provider reported it: the calls made and the tokens it billed for them. A call whose
/// answer was rejected still counts (the provider billed it); a call that failed before an answer came does not.
/// </summary>
public readonly record struct LlmUsage(int Calls, long InputTokens, long OutputTokens)
{
    public static LlmUsage None => default;

    public bool IsNone => Calls == 0 && InputTokens == 0 && OutputTokens == 0;

    public long Tokens => InputTokens + OutputTokens;

    public static LlmUsage operator +(LlmUsage a, LlmUsage b) =>
        new(a.Calls + b.Calls, a.InputTokens + b.InputTokens, a.OutputTokens + b.OutputTokens);
}

/// <summary>
/// The month's LLM token budget (LLM_TOKEN_BUDGET_MONTHLY) as every instance sees it: the host reads the month's spend
/// from the store, which all instances write to, so the ceiling holds across them.
/// </summary>
public interface ILlmBudget
{
    /// <summary>
    /// True when the calendar month's (UTC) tokens have reached the budget: the LLM is not asked again until the month
    /// turns. Never throws: when the spend cannot be read the answer is false, and the call goes ahead.
    /// </summary>
    ValueTask<bool> IsSpentAsync(CancellationToken cancellationToken);
}
