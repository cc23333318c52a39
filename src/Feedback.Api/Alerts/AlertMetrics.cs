using System.Diagnostics.Metrics;

namespace Feedback.Api.Alerts;

/// <summary>Delivery counters: alerts_sent_total, alerts_failed_total, alerts_retried_total and the alerts_pending gauge.</summary>
internal sealed class AlertMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private long _pending;

    public AlertMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Feedback.Alerts");
        _sent = meter.CreateCounter<long>("alerts_sent", description: "Alert messages delivered, by channel.");
        _failed = meter.CreateCounter<long>("alerts_failed", description: "Failed delivery attempts, by channel.");
        _retried = meter.CreateCounter<long>("alerts_retried", description: "Deliveries scheduled for another attempt, by channel.");
        meter.CreateObservableGauge("alerts_pending", () => Interlocked.Read(ref _pending), description: "Deliveries not yet delivered.");
    }

    public long Pending
    {
        get => Interlocked.Read(ref _pending);
        set => Interlocked.Exchange(ref _pending, value);
    }

    public void Sent(string channel) => _sent.Add(1, new KeyValuePair<string, object?>("channel", channel));

    public void Failed(string channel)
    {
        _failed.Add(1, new KeyValuePair<string, object?>("channel", channel));
        _retried.Add(1, new KeyValuePair<string, object?>("channel", channel));
    }
}
