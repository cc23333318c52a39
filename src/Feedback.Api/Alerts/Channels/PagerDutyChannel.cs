using System.Globalization;
using System.Text.Json.Nodes;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts.Channels;

/// <summary>
/// PagerDuty Events API v2 for critical groups: a trigger (again for a summary, which PagerDuty folds into
/// the same incident) and a resolve, all with <c>dedup_key</c> = the group.
/// </summary>
internal sealed class PagerDutyChannel(IHttpClientFactory clients, AlertSettings settings, TimeProvider time) : IAlertChannel
{
    public const string DefaultUrl = "https://events.pagerduty.com/v2/enqueue";

    public string Name => "pagerduty";

    public Task<SendResult> SendAsync(AlertMessage message, CancellationToken cancellationToken) =>
        HttpSend.PostAsync(
            clients.CreateClient(Name),
            string.IsNullOrWhiteSpace(settings.PagerDutyUrl) ? DefaultUrl : settings.PagerDutyUrl,
            Payload(message, settings.PagerDutyRoutingKey!, time.GetUtcNow()).ToJsonString(),
            null,
            time,
            cancellationToken);

    public static string DedupKey(long groupId) => $"feedback-alert-group-{groupId}";

    internal static JsonObject Payload(AlertMessage message, string routingKey, DateTimeOffset now)
    {
        if (message.DeliveryKind == "resolve")
        {
            return new JsonObject
            {
                ["routing_key"] = routingKey,
                ["event_action"] = "resolve",
                ["dedup_key"] = DedupKey(message.GroupId),
            };
        }

        var payload = new JsonObject
        {
            ["routing_key"] = routingKey,
            ["event_action"] = "trigger",
            ["dedup_key"] = DedupKey(message.GroupId),
            ["payload"] = new JsonObject
            {
                ["summary"] = Truncate($"{message.Title}: {message.Summary}", 1024),
                ["source"] = "feedback-service",
                ["severity"] = message.Severity switch
                {
                    "critical" => "critical",
                    "high" => "error",
                    "medium" => "warning",
                    _ => "info",
                },
                ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
                ["component"] = message.Topic,
                ["group"] = "customer-feedback",
                ["class"] = message.GroupKind switch { "spike" => "topic_spike", EmergingThemes.Kind => "emerging_theme", _ => "negative_feedback" },
                ["custom_details"] = new JsonObject
                {
                    ["alert_group_id"] = message.GroupId,
                    ["count"] = message.Count,
                    ["feedback_ids"] = new JsonArray([.. message.FeedbackIds.Take(100).Select(id => (JsonNode)id)]),
                    ["idempotency_key"] = message.IdempotencyKey,
                },
            },
        };
        if (message.Link is { } link)
        {
            payload["links"] = new JsonArray { new JsonObject { ["href"] = link.ToString(), ["text"] = "Open in Feedback" } };
        }

        return payload;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";
}
