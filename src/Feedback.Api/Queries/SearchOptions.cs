namespace Feedback.Api.Queries;

/// <summary>How long a <c>?q=</c> search may run (SEARCH_TIMEOUT_MS) before the store stops it and the answer is a 503 problem.</summary>
internal sealed class SearchOptions
{
    [ConfigurationKeyName("SEARCH_TIMEOUT_MS")]
    public int SearchTimeoutMs { get; set; } = 2000;

    public TimeSpan SearchTimeout => TimeSpan.FromMilliseconds(SearchTimeoutMs);

    public IReadOnlyList<string> Failures() =>
        SearchTimeoutMs is < 1 or > 60_000 ? [$"SEARCH_TIMEOUT_MS must be between 1 and 60000 (got {SearchTimeoutMs})."] : [];
}
