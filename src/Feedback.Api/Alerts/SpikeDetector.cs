using System.Globalization;
using Feedback.Storage;

namespace Feedback.Api.Alerts;

internal sealed record SpikeSettings(TimeSpan CheckInterval, int MinimumCount, double MaximumPValue, double MinimumBaselinePerHour);

/// <summary>
/// Raises one alert when a topic's negative (and mixed) messages in the last hour are far above its trailing
/// baseline: the mean hourly count over the 24 hours before. The test is the Poisson upper tail
/// P(X ≥ k | λ = baseline): arrivals of independent complaints in a fixed window are Poisson counts, and the
/// tail probability adapts to each topic's volume, where a z-score misbehaves on small counts and a plain
/// ratio fires on 1 → 3. A spike needs at least <see cref="SpikeSettings.MinimumCount"/> messages and
/// p below <see cref="SpikeSettings.MaximumPValue"/>; λ is floored so a new topic still needs a real burst.
/// </summary>
internal sealed partial class SpikeDetector(
    IBackgroundReads reads,
    IFeedbackStore writer,
    SpikeSettings settings,
    TimeProvider time,
    ILogger<SpikeDetector> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.CheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(logger, exception);
            }
        }
    }

    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var hourAgo = now.AddHours(-1);
        var dayBefore = hourAgo.AddHours(-24);
        var recentByTopic = await reads.CountNegativeByTopicAsync(hourAgo, now, cancellationToken);
        var baselineByTopic = await reads.CountNegativeByTopicAsync(dayBefore, hourAgo, cancellationToken);
        var counts = recentByTopic.Select(r => (Topic: r.Key, Recent: r.Value, Baseline: baselineByTopic.GetValueOrDefault(r.Key))).ToList();

        var raised = 0;
        foreach (var (topic, recent, baselineCount) in counts)
        {
            var lambda = Math.Max(baselineCount / 24.0, settings.MinimumBaselinePerHour);
            var p = PoissonUpperTail(recent, lambda);
            if (recent < settings.MinimumCount || p >= settings.MaximumPValue)
            {
                continue;
            }

            var summary = string.Create(CultureInfo.InvariantCulture,
                $"{recent} negative {topic} messages in the last hour against a baseline of {baselineCount / 24.0:0.0} an hour over the day before (Poisson p = {p:0.#E+0}).");
            var severity = recent >= 5 * lambda && p < settings.MaximumPValue / 1000 ? "critical" : "high";
            var dedup = string.Create(CultureInfo.InvariantCulture, $"spike:{topic}:{now:yyyy-MM-ddTHH}");
            if (await writer.RaiseSpikeAsync(new TopicSpike(topic, severity, summary, dedup, now), cancellationToken))
            {
                raised++;
                LogSpike(logger, topic, recent, lambda, p);
            }
        }

        return raised;
    }

    /// <summary>P(X ≥ k) for X ~ Poisson(λ), summed from k upwards in log space so large counts do not overflow.</summary>
    public static double PoissonUpperTail(int k, double lambda)
    {
        if (k <= 0)
        {
            return 1;
        }

        var logTerm = -lambda + (k * Math.Log(lambda)) - LogFactorial(k);
        var term = Math.Exp(logTerm);
        var sum = 0.0;
        for (var i = k; i < k + 10_000; i++)
        {
            sum += term;
            term *= lambda / (i + 1);
            if (term < sum * 1e-15)
            {
                break;
            }
        }

        return Math.Min(1, sum);
    }

    private static double LogFactorial(int n)
    {
        var sum = 0.0;
        for (var i = 2; i <= n; i++)
        {
            sum += Math.Log(i);
        }

        return sum;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spike: {Count} negative {Topic} messages in the last hour (baseline {Baseline:0.0}/h, p = {PValue:0.#E+0})")]
    private static partial void LogSpike(ILogger logger, string topic, int count, double baseline, double pValue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The spike check failed; the next one retries")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
