using System.Globalization;
using Feedback.Analysis.Llm;

namespace Feedback.Storage.Alerts;

/// <summary>A budget alert to raise: its group's severity, text and the key that makes it once a month.</summary>
internal sealed record BudgetAlert(int Percent, string Severity, string Summary, string DedupKey);

/// <summary>
/// One alert when the month's LLM tokens reach 80 % of LLM_TOKEN_BUDGET_MONTHLY and one when they reach all of it, each
/// once a calendar month (UTC), through the outbox as a spike's alert goes. The writer asks after recording a commit's
/// usage, in the same transaction, with the month's total as the store then holds it: every alert reached is raised
/// unless its group (kind, month and share in its dedup key) is there already, so neither two instances nor a crossing
/// hidden between two concurrent commits (each saw only its own tokens) can make it twice or lose it: the next commit
/// with usage sees the total. The 80 % alert is medium, the 100 % one high: the title tells them apart by it.
/// </summary>
internal sealed class LlmBudgetAlerts(LlmPricing pricing)
{
    /// <summary>The kind of a budget alert's group, beside 'feedback', 'spike' and 'page_budget'.</summary>
    public const string Kind = "llm_budget";

    /// <summary>What a budget group's row holds as its topic: it stands for every message.</summary>
    public const string Topic = "all";

    public const string WarningSeverity = "medium";

    public const string SpentSeverity = "high";

    private static readonly int[] Percents = [80, 100];

    public LlmPricing Pricing => pricing;

    /// <summary>Whether a budget is set at all: without one there is nothing to alert about, and no sum to read.</summary>
    public bool Enabled => pricing.MonthlyTokens is not null;

    /// <summary>The alerts <paramref name="monthTokens"/> reached in the month starting <paramref name="month"/>, raised or not.</summary>
    public IEnumerable<BudgetAlert> Reached(DateTime month, long monthTokens)
    {
        if (pricing.MonthlyTokens is not { } budget)
        {
            yield break;
        }

        foreach (var percent in Percents)
        {
            // Whole tokens: 80 % of a budget of 301 is reached at 241.
            if (monthTokens * 100 < budget * percent)
            {
                yield break;
            }

            var name = month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
            var summary = percent < 100
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{percent} % of the LLM token budget for {name} (UTC) is used: {monthTokens:N0} of {budget:N0} tokens (LLM_TOKEN_BUDGET_MONTHLY).")
                : string.Create(CultureInfo.InvariantCulture,
                    $"The LLM token budget for {name} (UTC) is spent: {monthTokens:N0} of {budget:N0} tokens (LLM_TOKEN_BUDGET_MONTHLY). " +
                    $"The local classifier answers, with the warning {Analysis.Analyzer.BudgetExhausted}, until the month turns.");
            yield return new BudgetAlert(percent, percent < 100 ? WarningSeverity : SpentSeverity, summary, string.Create(CultureInfo.InvariantCulture, $"{Kind}:{name}:{percent}"));
        }
    }

    /// <summary>What a budget alert says as its title, told apart by its severity.</summary>
    public static string Title(string severity) => severity == SpentSeverity
        ? "LLM budget spent: answers are local until the month turns"
        : "LLM budget: 80 % of the month's tokens used";
}
