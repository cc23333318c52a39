using System.Diagnostics.Metrics;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts;

/// <summary>
/// Delivery counters: alerts_sent_total, alerts_failed_total (attempts), alerts_retried_total, alert_deliveries_failed_total
/// (deliveries given up on) and the alerts_pending gauge.
/// </summary>
internal sealed class AlertMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _givenUp;
    private long _pending;

    public AlertMetrics(IMeterFactory meterFactory, AlertPolicy policy)
    {
        var meter = meterFactory.Create("Feedback.Alerts");
        _sent = meter.CreateCounter<long>("alerts_sent", description: "Alert messages delivered, by channel.");
        _failed = meter.CreateCounter<long>("alerts_failed", description: "Failed delivery attempts, by channel.");
        _retried = meter.CreateCounter<long>("alerts_retried", description: "Deliveries scheduled for another attempt, by channel.");
        _givenUp = meter.CreateCounter<long>(
            "alert_deliveries_failed", description: "Deliveries parked as failed (a permanent answer or the last attempt allowed), by channel.");
        meter.CreateObservableGauge("alerts_pending", () => Interlocked.Read(ref _pending), description: "Deliveries not yet delivered.");

        // Every channel a delivery can take has its series from the start, at 0: a rate or an alert rule on
        // alerts_failed_total then sees the first failure as a rise, not as a series that appears out of nothing.
        foreach (var channel in policy.ChannelsFor(AlertPolicy.Levels[^1]))
        {
            var tag = new KeyValuePair<string, object?>("channel", channel);
            _sent.Add(0, tag);
            _failed.Add(0, tag);
            _retried.Add(0, tag);
            _givenUp.Add(0, tag);
        }
    }

    public long Pending
    {
        get => Interlocked.Read(ref _pending);
        set => Interlocked.Exchange(ref _pending, value);
    }

    public void Sent(string channel) => _sent.Add(1, new KeyValuePair<string, object?>("channel", channel));

    /// <summary>An attempt failed; <paramref name="givenUp"/>: the delivery is parked as failed instead of retried.</summary>
    public void Failed(string channel, bool givenUp)
    {
        var tag = new KeyValuePair<string, object?>("channel", channel);
        _failed.Add(1, tag);
        (givenUp ? _givenUp : _retried).Add(1, tag);
    }
}
