using Microsoft.Extensions.Configuration;

namespace Feedback.Analysis.Llm;

/// <summary>
/// The LLM the classifier may ask, under the contract's variable names: the server and the CLI's reclassify bind it
/// from the same environment.
/// </summary>
internal sealed class LlmSettings
{
    [ConfigurationKeyName("OPENAI_API_KEY")]
    public string? OpenAiApiKey { get; set; }

    /// <summary>Any OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 for Ollama.</summary>
    [ConfigurationKeyName("OPENAI_BASE_URL")]
    public string? OpenAiBaseUrl { get; set; }

    [ConfigurationKeyName("OPENAI_MODEL")]
    public string OpenAiModel { get; set; } = "gpt-4o-mini";

    [ConfigurationKeyName("AI_PROVIDER_ENABLED")]
    public bool AiProviderEnabled { get; set; } = true;

    /// <summary>How long one LLM call may take in the background before it counts as failed.</summary>
    [ConfigurationKeyName("AI_TIMEOUT_MS")]
    public int AiTimeoutMs { get; set; } = 15_000;

    [ConfigurationKeyName("AI_CIRCUIT_FAILURES")]
    public int AiCircuitFailures { get; set; } = 5;

    [ConfigurationKeyName("AI_CIRCUIT_BREAK_SECONDS")]
    public int AiCircuitBreakSeconds { get; set; } = 30;

    [ConfigurationKeyName("PROMPT_VERSION")]
    public string PromptVersion { get; set; } = "v2";

    /// <summary>NAME:PERCENT, e.g. v3:10 sends a stable 10 % of texts to prompt v3.</summary>
    [ConfigurationKeyName("PROMPT_CANARY")]
    public string? PromptCanary { get; set; }

    [ConfigurationKeyName("REDACT_PII")]
    public bool RedactPii { get; set; } = true;

    /// <summary>
    /// LLM tokens (input and output) a calendar month (UTC) may use; null: no ceiling. Past it the local classifier
    /// answers, with the warning llm_budget_exhausted, until the month turns.
    /// </summary>
    [ConfigurationKeyName("LLM_TOKEN_BUDGET_MONTHLY")]
    public long? LlmTokenBudgetMonthly { get; set; }

    /// <summary>What 1,000 input tokens cost, in any currency unit; with the output price it turns tokens into cost.</summary>
    [ConfigurationKeyName("LLM_PRICE_INPUT_PER_1K")]
    public decimal? LlmPriceInputPer1K { get; set; }

    [ConfigurationKeyName("LLM_PRICE_OUTPUT_PER_1K")]
    public decimal? LlmPriceOutputPer1K { get; set; }

    /// <summary>The budget and prices as the store, /stats and the dashboard use them.</summary>
    public LlmPricing Pricing => new(LlmTokenBudgetMonthly, LlmPriceInputPer1K, LlmPriceOutputPer1K);

    /// <summary>What is wrong with the budget and price settings, one message naming the variable each.</summary>
    public IEnumerable<string> BudgetFailures()
    {
        if (LlmTokenBudgetMonthly is < 1)
        {
            yield return $"LLM_TOKEN_BUDGET_MONTHLY must be a whole number of tokens, 1 or more (got {LlmTokenBudgetMonthly}); leave it unset for no ceiling.";
        }

        if (LlmPriceInputPer1K is < 0)
        {
            yield return $"LLM_PRICE_INPUT_PER_1K must be 0 or more (got {LlmPriceInputPer1K}).";
        }

        if (LlmPriceOutputPer1K is < 0)
        {
            yield return $"LLM_PRICE_OUTPUT_PER_1K must be 0 or more (got {LlmPriceOutputPer1K}).";
        }
    }

    public bool AiConfigured =>
        AiProviderEnabled && (!string.IsNullOrWhiteSpace(OpenAiApiKey) || !string.IsNullOrWhiteSpace(OpenAiBaseUrl));

    public (string Name, int Percent)? Canary
    {
        get
        {
            if (string.IsNullOrWhiteSpace(PromptCanary))
            {
                return null;
            }

            var parts = PromptCanary.Split(':', StringSplitOptions.TrimEntries);
            return parts.Length == 2 && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var percent)
                ? (parts[0], percent)
                : null;
        }
    }
}
