using Feedback.Analysis;
using Microsoft.Extensions.Configuration;

namespace Feedback.Storage.Alerts;

/// <summary>
/// Which answers raise an alert, how alerts are grouped and where they go, under the contract's variable names: the
/// server and the CLI bind it from the same environment, so an alert the CLI stores is grouped as the server groups it.
/// </summary>
internal sealed class AlertOptions
{
    /// <summary>Comma-separated sentiments that raise an alert.</summary>
    [ConfigurationKeyName("ALERT_SENTIMENTS")]
    public string AlertSentiments { get; set; } = "negative,mixed";

    /// <summary>The lowest confidence level that raises an alert: high, medium or low.</summary>
    [ConfigurationKeyName("ALERT_MIN_CONFIDENCE")]
    public string AlertMinConfidence { get; set; } = "medium";

    [ConfigurationKeyName("SLACK_WEBHOOK_URL")]
    public string? SlackWebhookUrl { get; set; }

    /// <summary>A generic webhook that receives every alert, signed as Standard Webhooks says.</summary>
    [ConfigurationKeyName("ALERT_WEBHOOK_URL")]
    public string? AlertWebhookUrl { get; set; }

    /// <summary>The webhook's shared secret: whsec_ followed by base64, or any text.</summary>
    [ConfigurationKeyName("ALERT_WEBHOOK_SECRET")]
    public string? AlertWebhookSecret { get; set; }

    /// <summary>PagerDuty Events API v2 integration key: critical alert groups page.</summary>
    [ConfigurationKeyName("PAGERDUTY_ROUTING_KEY")]
    public string? PagerDutyRoutingKey { get; set; }

    [ConfigurationKeyName("PAGERDUTY_URL")]
    public string? PagerDutyUrl { get; set; }

    /// <summary>The address people open the service at, for links in alert messages.</summary>
    [ConfigurationKeyName("PUBLIC_URL")]
    public string? PublicUrl { get; set; }

    [ConfigurationKeyName("ALERT_GROUP_WINDOW_SECONDS")]
    public int AlertGroupWindowSeconds { get; set; } = 600;

    /// <summary>How many of the 64 SimHash bits two texts may differ in and still be the same complaint.</summary>
    [ConfigurationKeyName("ALERT_SIMILARITY_BITS")]
    public int AlertSimilarityBits { get; set; } = 10;

    /// <summary>The least time between two requests to one receiver (Slack allows about one a second).</summary>
    [ConfigurationKeyName("ALERT_SEND_INTERVAL_MS")]
    public int AlertSendIntervalMs { get; set; } = 1000;

    [ConfigurationKeyName("ALERT_RETRY_FIRST_SECONDS")]
    public double AlertRetryFirstSeconds { get; set; } = 1;

    [ConfigurationKeyName("ALERT_RETRY_MAX_SECONDS")]
    public double AlertRetryMaxSeconds { get; set; } = 300;

    [ConfigurationKeyName("ALERT_POLL_SECONDS")]
    public double AlertPollSeconds { get; set; } = 5;

    /// <summary>PagerDuty pages in any hour at most; the critical groups past it are summed up in one page (<see cref="PagingBudget"/>).</summary>
    [ConfigurationKeyName("ALERT_PAGES_PER_HOUR")]
    public int AlertPagesPerHour { get; set; } = 6;

    /// <summary>A JSON file of severity rules; empty: the shipped Alerts/alert-rules.json.</summary>
    [ConfigurationKeyName("ALERT_RULES_FILE")]
    public string? AlertRulesFile { get; set; }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public AlertSettings AlertSettings => new(
        TimeSpan.FromSeconds(AlertGroupWindowSeconds),
        AlertSimilarityBits,
        Blank(SlackWebhookUrl),
        Blank(AlertWebhookUrl),
        Blank(AlertWebhookSecret),
        Blank(PagerDutyUrl),
        Blank(PagerDutyRoutingKey),
        Blank(PublicUrl),
        TimeSpan.FromMilliseconds(AlertSendIntervalMs),
        TimeSpan.FromSeconds(AlertRetryFirstSeconds),
        TimeSpan.FromSeconds(AlertRetryMaxSeconds),
        TimeSpan.FromSeconds(AlertPollSeconds),
        AlertPagesPerHour);

    /// <summary>The grouping and routing policy with its severity rules (the shipped ones, or ALERT_RULES_FILE's).</summary>
    /// <param name="taxonomy">The configured topics, whose severities follow the built-in topics they include.</param>
    public AlertPolicy Policy(Analysis.Taxonomy? taxonomy = null) => new(AlertSettings, SeverityRules.Load(AlertRulesFile, taxonomy));

    public AlertRule AlertRule
    {
        get
        {
            var sentiments = new HashSet<Sentiment>();
            foreach (var name in AlertSentiments.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (WireNames.TryParseSentiment(name, out var sentiment))
                {
                    sentiments.Add(sentiment);
                }
            }

            var level = Enum.GetValues<ConfidenceLevel>().First(l => WireNames.Of(l) == AlertMinConfidence.Trim());
            return new AlertRule(sentiments, level);
        }
    }
}
