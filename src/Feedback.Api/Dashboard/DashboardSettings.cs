namespace Feedback.Api.Dashboard;

/// <summary>
/// What the dashboard's anonymous sign-in and its long-lived event streams may cost: both are reachable by anyone
/// who can reach the port, so each is bounded per client address (and the streams per key too).
/// </summary>
internal sealed class DashboardSettings
{
    /// <summary>The largest sign-in body: {"key": "..."} with a key of at most 1,024 characters fits with room.</summary>
    public const int MaxSignInBytes = 4096;

    /// <summary>Sign-in attempts a minute per client address (token bucket, same burst); 0 turns the limit off.</summary>
    [ConfigurationKeyName("DASHBOARD_SIGN_INS_PER_MINUTE")]
    public int SignInsPerMinute { get; set; } = 10;

    /// <summary>Open /dashboard/events streams per API key (all its browsers together).</summary>
    [ConfigurationKeyName("DASHBOARD_STREAMS_PER_KEY")]
    public int StreamsPerKey { get; set; } = 20;

    /// <summary>Open /dashboard/events streams per client address.</summary>
    [ConfigurationKeyName("DASHBOARD_STREAMS_PER_ADDRESS")]
    public int StreamsPerAddress { get; set; } = 10;

    /// <summary>At most one warning line about failed sign-ins per this many seconds, with the count since the last.</summary>
    [ConfigurationKeyName("DASHBOARD_SIGN_IN_LOG_SECONDS")]
    public int SignInFailureLogSeconds { get; set; } = 60;

    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (SignInsPerMinute < 0)
        {
            failures.Add($"DASHBOARD_SIGN_INS_PER_MINUTE must be 0 (off) or more (got {SignInsPerMinute}).");
        }

        if (StreamsPerKey < 1)
        {
            failures.Add($"DASHBOARD_STREAMS_PER_KEY must be 1 or more (got {StreamsPerKey}).");
        }

        if (StreamsPerAddress < 1)
        {
            failures.Add($"DASHBOARD_STREAMS_PER_ADDRESS must be 1 or more (got {StreamsPerAddress}).");
        }

        if (SignInFailureLogSeconds < 1)
        {
            failures.Add($"DASHBOARD_SIGN_IN_LOG_SECONDS must be 1 or more (got {SignInFailureLogSeconds}).");
        }

        return failures;
    }
}
