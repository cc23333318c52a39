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

    /// <summary>How long a request waits for the LLM before answering with the local result as provisional.</summary>
    [ConfigurationKeyName("AI_DEADLINE_MS")]
    public int AiDeadlineMs { get; set; } = 350;

    [ConfigurationKeyName("AI_MAX_CONCURRENCY")]
    public int AiMaxConcurrency { get; set; } = 16;

    /// <summary>How often provisional answers left behind (by a restart or a full LLM queue) are retried.</summary>
    [ConfigurationKeyName("AI_SWEEP_SECONDS")]
    public int AiSweepSeconds { get; set; } = 10;

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

    /// <summary>What is wrong with these settings, one message naming the variable each; empty when nothing is.</summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(OpenAiBaseUrl)
            && (!Uri.TryCreate(OpenAiBaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https")))
        {
            failures.Add($"OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:11434/v1 (got '{OpenAiBaseUrl}').");
        }

        if (string.IsNullOrWhiteSpace(OpenAiModel))
        {
            failures.Add("OPENAI_MODEL must name a model.");
        }

        failures.AddRange(BudgetFailures());

        if (AiDeadlineMs is < 0 or > 10_000)
        {
            failures.Add($"AI_DEADLINE_MS must be between 0 and 10000 (got {AiDeadlineMs}).");
        }

        if (AiTimeoutMs is < 100 or > 300_000)
        {
            failures.Add($"AI_TIMEOUT_MS must be between 100 and 300000 (got {AiTimeoutMs}).");
        }

        if (AiMaxConcurrency is < 1 or > 1024)
        {
            failures.Add($"AI_MAX_CONCURRENCY must be between 1 and 1024 (got {AiMaxConcurrency}).");
        }

        if (AiCircuitFailures < 1)
        {
            failures.Add($"AI_CIRCUIT_FAILURES must be 1 or more (got {AiCircuitFailures}).");
        }

        if (AiCircuitBreakSeconds < 1)
        {
            failures.Add($"AI_CIRCUIT_BREAK_SECONDS must be 1 or more (got {AiCircuitBreakSeconds}).");
        }

        if (AiSweepSeconds < 1)
        {
            failures.Add($"AI_SWEEP_SECONDS must be 1 or more (got {AiSweepSeconds}).");
        }

        if (!PromptLibrary.TryGet(PromptVersion, out _))
        {
            failures.Add($"PROMPT_VERSION: there is no prompt '{PromptVersion}' (known: {string.Join(", ", PromptLibrary.Names)}).");
        }

        if (!string.IsNullOrWhiteSpace(PromptCanary))
        {
            if (Canary is not { } canary || canary.Percent > 100)
            {
                failures.Add($"PROMPT_CANARY must be NAME:PERCENT with a percent from 0 to 100, e.g. v3:10 (got '{PromptCanary}').");
            }
            else if (!PromptLibrary.TryGet(canary.Name, out _))
            {
                failures.Add($"PROMPT_CANARY: there is no prompt '{canary.Name}' (known: {string.Join(", ", PromptLibrary.Names)}).");
            }
        }

        return failures;
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
