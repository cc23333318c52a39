namespace Feedback.Analysis.Llm;

/// <summary>
/// LLM answers shared by every instance of the service (Redis when REDIS_URL is set), keyed by the digest the
/// local cache uses, so the same text is sent to the LLM once across instances. Implementations never throw:
/// when the shared store is unreachable they answer as if it were empty and unclaimed, and each instance
/// falls back to its own cache and its own LLM calls.
/// </summary>
public interface ISharedAnswers
{
    ValueTask<Classification?> GetAsync(CacheKey key);

    ValueTask SetAsync(CacheKey key, Classification value);

    /// <summary>
    /// Marks the key as being asked about for at most <paramref name="expiry"/>; false when another instance
    /// holds the mark, so the caller can wait for that instance's answer instead of asking again.
    /// </summary>
    ValueTask<bool> TryClaimAsync(CacheKey key, TimeSpan expiry);

    ValueTask ReleaseAsync(CacheKey key);
}
