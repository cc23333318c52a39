using System.Diagnostics.Metrics;

namespace Feedback.Analysis;

/// <summary>What the classification path counts; exported by the host (Prometheus names in comments).</summary>
public sealed class AnalysisMetrics
{
    public const string MeterName = "Feedback.Analysis";

    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _tokens;
    private readonly Counter<long> _aiCalls;
    private readonly Counter<long> _sharedCache;

    public AnalysisMetrics(IMeterFactory meterFactory, ClassificationCache cache)
    {
        var meter = meterFactory.Create(MeterName);

        // ai_fallback_total{reason}: the local classifier answered although the LLM was configured.
        _fallbacks = meter.CreateCounter<long>("ai_fallback", description: "Answers given by the local classifier although an LLM is configured, by reason.");

        // llm_tokens_total{direction}: tokens billed by the provider, rejected answers included (the store keeps the month's
        // count for the budget; this is the process's own).
        _tokens = meter.CreateCounter<long>("llm_tokens", unit: "{token}", description: "LLM tokens billed, by direction (input, output).");

        // ai_calls_total{outcome}
        _aiCalls = meter.CreateCounter<long>("ai_calls", description: "LLM calls, by outcome.");

        // feedback_shared_cache_lookups_total{result}: LLM answers looked up in the cache shared by instances (REDIS_URL).
        _sharedCache = meter.CreateCounter<long>("feedback_shared_cache_lookups", description: "Lookups of LLM answers in the cache shared by instances, by result.");

        // feedback_cache_hits_total / feedback_cache_misses_total
        meter.CreateObservableCounter("feedback_cache_hits", () => cache.Hits, description: "Classification cache hits.");
        meter.CreateObservableCounter("feedback_cache_misses", () => cache.Misses, description: "Classification cache misses.");
    }

    /// <summary>
    /// With an LLM configured, its call and token series start at 0 (<c>ai_fallback_total</c> stays absent until the first
    /// fallback: the alert rules treat its appearance as the signal).
    /// </summary>
    public void PrimeLlm()
    {
        _aiCalls.Add(0, new KeyValuePair<string, object?>("outcome", "ok"));
        _tokens.Add(0, new KeyValuePair<string, object?>("direction", "input"));
        _tokens.Add(0, new KeyValuePair<string, object?>("direction", "output"));
    }

    public void Fallback(string reason) => _fallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void SharedCache(bool hit) => _sharedCache.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void AiCall(string outcome) => _aiCalls.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Tokens(Llm.LlmUsage usage)
    {
        if (usage.IsNone)
        {
            return;
        }

        _tokens.Add(usage.InputTokens, new KeyValuePair<string, object?>("direction", "input"));
        _tokens.Add(usage.OutputTokens, new KeyValuePair<string, object?>("direction", "output"));
    }
}
