namespace Feedback.Api.Alerts;

/// <summary>When a topic's negative messages in the last hour are a spike worth an alert (SPIKE_*).</summary>
internal sealed class SpikeOptions
{
    [ConfigurationKeyName("SPIKE_CHECK_SECONDS")]
    public int SpikeCheckSeconds { get; set; } = 300;

    /// <summary>The fewest negative messages of one topic in an hour that can be a spike.</summary>
    [ConfigurationKeyName("SPIKE_MIN_COUNT")]
    public int SpikeMinCount { get; set; } = 10;

    /// <summary>How unlikely the last hour must be under the topic's baseline (Poisson upper tail).</summary>
    [ConfigurationKeyName("SPIKE_P_VALUE")]
    public double SpikePValue { get; set; } = 0.001;

    public SpikeSettings SpikeSettings => new(TimeSpan.FromSeconds(SpikeCheckSeconds), SpikeMinCount, SpikePValue, MinimumBaselinePerHour: 0.5);

    public IReadOnlyList<string> Failures() =>
        SpikeCheckSeconds < 1 || SpikeMinCount < 1 || SpikePValue is <= 0 or >= 1
            ? ["SPIKE_CHECK_SECONDS and SPIKE_MIN_COUNT must be 1 or more and SPIKE_P_VALUE between 0 and 1."]
            : [];
}
