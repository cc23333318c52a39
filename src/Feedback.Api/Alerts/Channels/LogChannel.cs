namespace Feedback.Api.Alerts.Channels;

/// <summary>Where alerts go when no channel is configured: one structured log line, without the customer's text.</summary>
internal sealed partial class LogChannel(ILogger<LogChannel> logger) : IAlertChannel
{
    public string Name => "log";

    public Task<SendResult> SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        LogAlert(logger, message.GroupId, message.DeliveryKind, message.Severity, message.Topic, message.Count, string.Join(",", message.FeedbackIds.Take(50)));
        return Task.FromResult(SendResult.Ok);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert group {AlertGroupId} ({DeliveryKind}): {Severity} {Topic}, {Count} message(s), feedback {FeedbackIds}")]
    private static partial void LogAlert(ILogger logger, long alertGroupId, string deliveryKind, string severity, string topic, int count, string feedbackIds);
}
