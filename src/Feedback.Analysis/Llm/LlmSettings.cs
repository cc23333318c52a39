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
