using Feedback.Storage;

namespace Feedback.Api.Security;

/// <summary>Who may call the API and how much: the keys (API_KEY, API_KEYS_FILE), the per-key rate limit and load shedding.</summary>
internal sealed class SecurityOptions
{
    [ConfigurationKeyName("API_KEY")]
    public string ApiKey { get; set; } = "";

    /// <summary>Named keys with scopes, one per line as NAME SCOPES sha256:HEX; empty: api-keys.txt under DATA_DIR.</summary>
    [ConfigurationKeyName("API_KEYS_FILE")]
    public string? ApiKeysFile { get; set; }

    /// <summary>Read for the default place of the named keys only.</summary>
    [ConfigurationKeyName("DATA_DIR")]
    public string DataDir { get; set; } = "./data";

    /// <summary>Requests a minute per API key (token bucket, same burst); 0 turns the limit off.</summary>
    [ConfigurationKeyName("RATE_LIMIT_PER_MINUTE")]
    public int RateLimitPerMinute { get; set; } = 100;

    /// <summary>Requests in flight at most before new ones are answered 503; 0 turns shedding off.</summary>
    [ConfigurationKeyName("MAX_CONCURRENT_REQUESTS")]
    public int MaxConcurrentRequests { get; set; } = 512;

    public IReadOnlyList<string> ApiKeys =>
        ApiKey.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Where the named keys are, by the store's rule, so the server reads the file the CLI's <c>key add</c> writes.</summary>
    public string ApiKeysPath => new StoreSettings { DataDir = DataDir, ApiKeysFile = ApiKeysFile }.ApiKeysPath;

    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        var keysFile = ApiKeysPath;
        var keysFileGiven = !string.IsNullOrWhiteSpace(ApiKeysFile);
        if (ApiKeys.Count == 0 && !keysFileGiven && !File.Exists(keysFile))
        {
            failures.Add($"API_KEY is not set: give one or more keys, comma-separated, or add a named key (./run.sh key add NAME writes {keysFile}; ./run.sh creates .env with a fresh key).");
        }
        else if (ApiKeys.Any(k => k.Length < 16))
        {
            failures.Add("API_KEY: every key must be at least 16 characters long.");
        }

        // A file named by API_KEYS_FILE must be there; the default one only once a key was added.
        if (keysFileGiven || File.Exists(keysFile))
        {
            try
            {
                ApiKeyStore.ParseFile(File.ReadAllLines(keysFile));
            }
            catch (Exception exception) when (exception is IOException or FormatException or UnauthorizedAccessException)
            {
                failures.Add($"API_KEYS_FILE: {exception.Message}");
            }
        }

        if (RateLimitPerMinute < 0)
        {
            failures.Add($"RATE_LIMIT_PER_MINUTE must be 0 (off) or more (got {RateLimitPerMinute}).");
        }

        if (MaxConcurrentRequests < 0)
        {
            failures.Add($"MAX_CONCURRENT_REQUESTS must be 0 (off) or more (got {MaxConcurrentRequests}).");
        }

        return failures;
    }
}
