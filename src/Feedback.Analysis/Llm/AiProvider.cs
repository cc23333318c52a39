using System.Diagnostics;

namespace Feedback.Analysis.Llm;

/// <summary>How the LLM path behaves; bound from the OPENAI_* / AI_* / PROMPT_* settings by the host.</summary>
public sealed record AiOptions
{
    public required string Model { get; init; }

    /// <summary>How long a request waits for the LLM before answering with the local result as provisional.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMilliseconds(350);

    /// <summary>How long a call may run in the background before it counts as failed.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Calls in flight at most; beyond that, answers stay local and provisional until a slot frees.</summary>
    public int MaxConcurrency { get; init; } = 16;

    public int CircuitFailures { get; init; } = 5;

    public TimeSpan CircuitBreak { get; init; } = TimeSpan.FromSeconds(30);

    public required PromptVersion Prompt { get; init; }

    /// <summary>A prompt tried on a stable share of traffic, with that share in percent.</summary>
    public (PromptVersion Prompt, int Percent)? Canary { get; init; }

    /// <summary>
    /// What a text goes through before it leaves the machine (<see cref="PiiRedactor.Redact"/> when REDACT_PII is on);
    /// null sends it as written.
    /// </summary>
    public Func<string, string>? Redact { get; init; } = PiiRedactor.Redact;
}

/// <summary>What one LLM call gave: its answer (null when none was usable) and what the provider billed for it.</summary>
public sealed record LlmCall(Classification? Answer, LlmUsage Usage)
{
    public static LlmCall Failed { get; } = new(null, LlmUsage.None);
}

/// <summary>Whether an LLM call may start now, and if not, why.</summary>
public enum CallAdmission
{
    Admitted,
    CircuitOpen,
    Busy,
}

/// <summary>
/// The LLM as a guarded resource: bounded concurrency, a circuit breaker, a call timeout, a cache keyed by
/// model and prompt version, and counters for every way it can fail.
/// </summary>
public sealed class AiProvider
{
    private readonly LlmClassifier _classifier;
    private readonly string _topics;
    private readonly ClassificationCache _cache;
    private readonly AnalysisMetrics? _metrics;
    private readonly SemaphoreSlim _slots;
    private readonly ISharedAnswers? _shared;
    private readonly ILlmBudget? _budget;

    public AiProvider(
        LlmClassifier classifier, AiOptions options, ClassificationCache cache, TimeProvider time, AnalysisMetrics? metrics, ISharedAnswers? shared = null,
        ILlmBudget? budget = null)
    {
        _classifier = classifier;
        _budget = budget;
        _topics = classifier.Taxonomy.IsBuiltIn ? "" : "|" + classifier.Taxonomy.Fingerprint();
        _shared = shared;
        Options = options;
        _cache = cache;
        _metrics = metrics;
        Time = time;
        _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        Circuit = new ProviderCircuit(time, options.CircuitFailures, options.CircuitBreak);
    }

    public AiOptions Options { get; }

    public ProviderCircuit Circuit { get; }

    public TimeProvider Time { get; }

    public string Model => _classifier.Model;

    /// <summary>The prompt for a text: the canary's for a stable share of texts (by their digest), else the default.</summary>
    public PromptVersion PromptFor(CacheKey key) =>
        Options.Canary is { } canary && (int)(key.A % 100) < canary.Percent ? canary.Prompt : Options.Prompt;

    /// <summary>How often an instance waiting for another instance's answer to the same text looks for it.</summary>
    public static TimeSpan SharedPollInterval { get; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Whether the month's token budget is spent (false without LLM_TOKEN_BUDGET_MONTHLY): asked before a call, never
    /// before a cached answer, which costs nothing.
    /// </summary>
    public async ValueTask<bool> BudgetSpentAsync(CancellationToken cancellationToken)
    {
        if (_budget is null || !await _budget.IsSpentAsync(cancellationToken))
        {
            return false;
        }

        _metrics?.Fallback("budget_exhausted");
        return true;
    }

    public bool TryGetCached(CacheKey key, PromptVersion prompt, out Classification classification) =>
        _cache.TryGet(AiKey(key, prompt), out classification);

    /// <summary>An answer another instance got from the LLM (null without a shared cache); kept locally too.</summary>
    public async ValueTask<Classification?> GetSharedAsync(CacheKey key, PromptVersion prompt)
    {
        if (_shared is null)
        {
            return null;
        }

        var aiKey = AiKey(key, prompt);
        var answer = await _shared.GetAsync(aiKey);
        _metrics?.SharedCache(answer is not null);
        if (answer is not null)
        {
            _cache.Set(aiKey, answer);
        }

        return answer;
    }

    /// <summary>
    /// Asks the circuit, then takes a concurrency slot without waiting. When admitted, the caller must make the call
    /// with <see cref="CallAsync"/>, which gives both back.
    /// </summary>
    public CallAdmission TryAdmit()
    {
        if (!Circuit.TryAcquire(out var trial))
        {
            return CallAdmission.CircuitOpen;
        }

        if (_slots.Wait(0))
        {
            return CallAdmission.Admitted;
        }

        // The circuit let the trial through, but no call will be made now: held, it would keep the circuit open for good.
        if (trial)
        {
            Circuit.ReturnTrial();
        }

        return CallAdmission.Busy;
    }

    /// <summary>
    /// Calls the model with the admission <see cref="TryAdmit"/> gave and hands back its slot and the circuit's trial when
    /// done, whatever happened. The answer is null (and why is counted) when the call gives no usable answer, whatever
    /// went wrong; it never throws: the caller keeps the local result. The usage is what the provider billed, answer or
    /// not (none when another instance's answer was taken).
    /// </summary>
    public async Task<LlmCall> CallAsync(string text, CacheKey key, PromptVersion prompt, string language)
    {
        var started = Stopwatch.GetTimestamp();
        var aiKey = AiKey(key, prompt);
        var claimed = false;
        var providerAnswered = false;
        TimeSpan? retryAfter = null;
        try
        {
            if (_shared is not null)
            {
                (var elsewhere, claimed) = await WaitForOtherInstanceAsync(aiKey);
                if (elsewhere is not null)
                {
                    // The provider just answered another instance: that settles a trial call this one was let through for.
                    providerAnswered = true;
                    _cache.Set(aiKey, elsewhere);
                    return new LlmCall(elsewhere, LlmUsage.None);
                }
            }

            using var timeout = new CancellationTokenSource(Options.CallTimeout, Time);
            var outbound = Options.Redact is { } redact ? redact(text) : text;
            var answer = await _classifier.ClassifyAsync(outbound, prompt, timeout.Token);
            providerAnswered = true;
            var usage = new LlmUsage(1, answer.InputTokens, answer.OutputTokens);
            _metrics?.AiCall("ok");
            _metrics?.Tokens(usage);
            var classification = ToClassification(answer, language, prompt, Stopwatch.GetElapsedTime(started));
            _cache.Set(aiKey, classification);
            if (_shared is not null)
            {
                await _shared.SetAsync(aiKey, classification);
            }

            return new LlmCall(classification, usage);
        }
        catch (OperationCanceledException)
        {
            _metrics?.AiCall("timeout");
            _metrics?.Fallback("timeout");
            return LlmCall.Failed;
        }
        catch (LlmFailureException failure)
        {
            // A wrong answer is the model's fault, not the server's: it does not open the circuit.
            providerAnswered = failure.Kind == LlmFailureKind.InvalidAnswer;
            retryAfter = failure.RetryAfter;
            var reason = ReasonOf(failure.Kind);
            _metrics?.AiCall(reason);
            _metrics?.Fallback(reason);
            _metrics?.Tokens(failure.Usage);
            return new LlmCall(null, failure.Usage);
        }
        catch (Exception)
        {
            // Anything else on the way (a redaction regex that timed out, a fault in this code) is a failed call like
            // any other: the local answer stands, and the message is stored rather than lost to a 500.
            _metrics?.AiCall("error");
            _metrics?.Fallback("error");
            return LlmCall.Failed;
        }
        finally
        {
            // Here and nowhere else, so no way out of the call can leave the trial held or the slot taken.
            if (providerAnswered)
            {
                Circuit.Succeeded();
            }
            else
            {
                Circuit.Failed(retryAfter);
            }

            _slots.Release();
            if (claimed)
            {
                // After the answer is shared, so an instance waiting on the mark finds the answer, not a free key.
                await _shared!.ReleaseAsync(aiKey);
            }
        }
    }

    /// <summary>
    /// Claims the text for this instance, or, while another instance holds the claim, waits for its answer to
    /// appear in the shared cache. A claim that lapses or is released without an answer (that instance's call
    /// failed or it died) is taken over; after a whole call timeout of waiting, this instance asks the LLM itself.
    /// </summary>
    private async Task<(Classification? Answer, bool Claimed)> WaitForOtherInstanceAsync(CacheKey aiKey)
    {
        var started = Time.GetTimestamp();
        while (true)
        {
            if (await _shared!.TryClaimAsync(aiKey, Options.CallTimeout + TimeSpan.FromSeconds(1)))
            {
                // The holder shares its answer before it releases the mark, so a mark free since the last look
                // may mean the answer is there now: one more look costs far less than a second LLM call.
                if (await _shared.GetAsync(aiKey) is { } shared)
                {
                    await _shared.ReleaseAsync(aiKey);
                    _metrics?.SharedCache(hit: true);
                    return (shared, false);
                }

                return (null, true);
            }

            if (await _shared.GetAsync(aiKey) is { } answer)
            {
                _metrics?.SharedCache(hit: true);
                return (answer, false);
            }

            if (Time.GetElapsedTime(started) >= Options.CallTimeout)
            {
                return (null, false);
            }

            await Task.Delay(SharedPollInterval, Time);
        }
    }

    public void CountFallback(string reason) => _metrics?.Fallback(reason);

    private static string ReasonOf(LlmFailureKind kind) => kind switch
    {
        LlmFailureKind.Timeout => "timeout",
        LlmFailureKind.RateLimited => "rate_limited",
        LlmFailureKind.ServerError => "server_error",
        LlmFailureKind.Unreachable => "unreachable",
        _ => "invalid_answer",
    };

    // The taxonomy is part of the key: an answer given under other topics (another instance mid-deploy) is not reused.
    private CacheKey AiKey(CacheKey key, PromptVersion prompt) =>
        TextRules.KeyFor($"{key.A:x16}{key.B:x16}{key.C:x16}{key.D:x16}", $"ai|{Model}|{prompt.Name}{_topics}");

    /// <summary>
    /// The model reports one probability; the rest is spread evenly so the scores sum to 1 and the chosen
    /// label stays the most probable (a confidence under 0.25 is raised to it).
    /// </summary>
    internal static Classification ToClassification(LlmAnswer answer, string language, PromptVersion prompt, TimeSpan took)
    {
        var p = Math.Max(answer.Confidence, 0.25);
        var rest = (1 - p) / 3;
        var scores = new SentimentScores(
            answer.Sentiment == Sentiment.Positive ? p : rest,
            answer.Sentiment == Sentiment.Negative ? p : rest,
            answer.Sentiment == Sentiment.Neutral ? p : rest,
            answer.Sentiment == Sentiment.Mixed ? p : rest);
        return new Classification(answer.Sentiment, answer.Topic, p, scores, language,
            [$"decided by the LLM with prompt {prompt.Name} in {took.TotalMilliseconds:0} ms"]);
    }
}
