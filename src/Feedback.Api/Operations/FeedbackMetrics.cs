using System.Diagnostics.Metrics;

namespace Feedback.Api.Operations;

/// <summary>
/// The API's own series: feedback_requests_total{sentiment,topic,processing_method}, feedback_latency_seconds,
/// feedback_auth_failures_total and feedback_labels_total{sentiment_agrees,topic_agrees}.
/// </summary>
internal sealed class FeedbackMetrics
{
    public const string MeterName = "Feedback.Api";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _labels;
    private readonly Counter<long> _erasures;
    private readonly Counter<long> _erased;
    private readonly Counter<long> _purged;

    public FeedbackMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("feedback_requests", description: "Messages classified and stored, by answer.");
        _latency = meter.CreateHistogram<double>(
            "feedback_latency",
            unit: "s",
            description: "Time to answer POST /feedback, from the request to the committed row.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.35, 0.5, 1, 2.5, 5] });
        _authFailures = meter.CreateCounter<long>("feedback_auth_failures", description: "Requests refused for a missing, wrong or under-scoped API key.");
        _labels = meter.CreateCounter<long>("feedback_labels", description: "Labels set by a person, by whether they agree with the model's answer.");
        _erasures = meter.CreateCounter<long>("feedback_erasures", description: "Customers whose data was erased on request (DELETE /customers/{customer_id}/feedback).");
        _erased = meter.CreateCounter<long>("feedback_erased_messages", description: "Messages erased with their customer's data.");
        _purged = meter.CreateCounter<long>("feedback_retention_purged_messages", description: "Messages purged for being older than RETENTION_DAYS.");
    }

    public void Stored(string sentiment, string topic, string method, TimeSpan latency)
    {
        Count(sentiment, topic, method, 1);
        _latency.Record(latency.TotalSeconds);
    }

    private void Count(string sentiment, string topic, string method, long count) =>
        _requests.Add(count, new KeyValuePair<string, object?>("sentiment", sentiment), new KeyValuePair<string, object?>("topic", topic),
            new KeyValuePair<string, object?>("processing_method", method));

    /// <summary>
    /// Puts every answer a local or validation decision can give (and the LLM's, when one is configured) at 0 before the
    /// first message, so a dashboard or an alert rule sees a flat line from the start instead of no series at all. The
    /// latency histogram has no labels and appears with the first answer.
    /// </summary>
    public void Prime(IEnumerable<string> sentiments, IEnumerable<string> topics, bool llmConfigured)
    {
        string[] methods = llmConfigured ? ["ml_fallback", "ai"] : ["ml_fallback"];
        foreach (var method in methods)
        {
            foreach (var sentiment in sentiments)
            {
                foreach (var topic in topics)
                {
                    Count(sentiment, topic, method, 0);
                }
            }
        }

        Count("neutral", "general", "validation", 0);
    }

    /// <summary>A person labelled a message; how often they correct the model is the figure worth watching.</summary>
    public void Labelled(bool sentimentAgrees, bool topicAgrees) =>
        _labels.Add(1, new KeyValuePair<string, object?>("sentiment_agrees", sentimentAgrees ? "true" : "false"),
            new KeyValuePair<string, object?>("topic_agrees", topicAgrees ? "true" : "false"));

    public void Erased(int messages)
    {
        _erasures.Add(1);
        _erased.Add(messages);
    }

    /// <summary>Messages RETENTION_DAYS purged (a zero still makes the series appear once the purge has run).</summary>
    public void Purged(int messages) => _purged.Add(messages);

    public void AuthFailed(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
