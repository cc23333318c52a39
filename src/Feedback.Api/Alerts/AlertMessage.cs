using Feedback.Storage;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts;

/// <summary>Everything a channel needs to say about one delivery of one group.</summary>
internal sealed record AlertMessage(
    long DeliveryId,
    string DeliveryKind,
    long GroupId,
    string GroupKind,
    string Topic,
    string Severity,
    string State,
    int Count,
    DateTime FirstAt,
    DateTime LastAt,
    string Summary,
    IReadOnlyList<AlertedFeedback> Feedback,
    TimeSpan Window,
    Uri? Link)
{
    /// <summary>The same for every retry of this delivery, so receivers can drop repeats.</summary>
    public string IdempotencyKey => $"alert-{GroupId}-{DeliveryKind}";

    public IReadOnlyList<long> FeedbackIds => [.. Feedback.Select(f => f.Id)];

    public string Title => GroupKind switch
    {
        "spike" => $"{Capital(Severity)}: spike of negative {Topic} feedback",
        EmergingThemes.Kind => $"{Capital(Severity)}: emerging theme \"{EmergingThemes.LabelOf(Summary) ?? Topic}\"",
        PagingBudget.SummaryKind => PagingBudget.Title(Count),
        LlmBudgetAlerts.Kind => LlmBudgetAlerts.Title(Severity),
        _ => DeliveryKind switch
        {
            "summary" => $"+{Count - 1} similar {Topic} alerts in {Window.TotalMinutes:0} min",
            "resolve" => $"Resolved: {Topic} alert group {GroupId}",
            _ => $"{Capital(Severity)}: {(Feedback.Count > 0 ? Feedback[0].Sentiment : null) ?? "negative"} {Topic} feedback",
        },
    };

    private static string Capital(string word) => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..];
}

/// <summary>What a channel answered; <see cref="Permanent"/>: the same request would be refused again, so retrying is pointless.</summary>
internal sealed record SendResult(bool Delivered, string? Error = null, TimeSpan? RetryAfter = null, bool Permanent = false)
{
    public static SendResult Ok { get; } = new(true);
}

/// <summary>One way of telling people about an alert (Slack, a signed webhook, PagerDuty, the log).</summary>
internal interface IAlertChannel
{
    string Name { get; }

    Task<SendResult> SendAsync(AlertMessage message, CancellationToken cancellationToken);
}
