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

    /// <summary>
    /// The older rule, when set: the most probable sentiment alerts at this confidence level or higher (high, medium or
    /// low). Empty: <see cref="AlertSensitivity"/> decides.
    /// </summary>
    [ConfigurationKeyName("ALERT_MIN_CONFIDENCE")]
    public string AlertMinConfidence { get; set; } = "";

    /// <summary>balanced, recall or precision: where alerts sit on the precision–recall curve; empty is balanced.</summary>
    [ConfigurationKeyName("ALERT_SENSITIVITY")]
    public string AlertSensitivity { get; set; } = "";

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

    /// <summary>
    /// What makes two alerts the same complaint: "meaning" (the messages' sentence vectors, for a message the encoder
    /// read; its words otherwise) or "words" (the SimHash of the words alone, as before).
    /// </summary>
    [ConfigurationKeyName("ALERT_GROUP_BY")]
    public string AlertGroupBy { get; set; } = "meaning";

    /// <summary>How many of the 63 bits of two meaning fingerprints may differ for the same complaint (<see cref="MeaningFingerprint"/>).</summary>
    [ConfigurationKeyName("ALERT_MEANING_BITS")]
    public int AlertMeaningBits { get; set; } = 8;

    /// <summary>The least time between two requests to one receiver (Slack allows about one a second).</summary>
    [ConfigurationKeyName("ALERT_SEND_INTERVAL_MS")]
    public int AlertSendIntervalMs { get; set; } = 1000;

    [ConfigurationKeyName("ALERT_RETRY_FIRST_SECONDS")]
    public double AlertRetryFirstSeconds { get; set; } = 1;

    [ConfigurationKeyName("ALERT_RETRY_MAX_SECONDS")]
    public double AlertRetryMaxSeconds { get; set; } = 300;

    /// <summary>
    /// Attempts after which a failing delivery is parked as failed (0: retried until it succeeds). About an hour of
    /// failures at the default back-off; a permanent answer (400, 401, 403, 404, 410, 422) parks it at once.
    /// </summary>
    [ConfigurationKeyName("ALERT_MAX_ATTEMPTS")]
    public int AlertMaxAttempts { get; set; } = DefaultMaxAttempts;

    public const int DefaultMaxAttempts = 20;

    /// <summary>The LLM's setting, read here too: the excerpt alerts carry is redacted the same way.</summary>
    [ConfigurationKeyName("REDACT_PII")]
    public bool RedactPii { get; set; } = true;

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
        AlertMaxAttempts,
        RedactPii,
        AlertPagesPerHour,
        string.Equals(AlertGroupBy?.Trim(), "words", StringComparison.OrdinalIgnoreCase) ? null : AlertMeaningBits);

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

            var sensitivity = Analysis.AlertRule.TryParseSensitivity(AlertSensitivity, out var parsed) ? parsed : Analysis.AlertSensitivity.Balanced;
            var rule = Analysis.AlertRule.For(sensitivity, sentiments);
            return string.IsNullOrWhiteSpace(AlertMinConfidence)
                ? rule
                : rule with { MinimumConfidence = Enum.GetValues<ConfidenceLevel>().First(l => WireNames.Of(l) == AlertMinConfidence.Trim()) };
        }
    }

    /// <summary>What is wrong with these settings, one message naming the variable each; empty when nothing is.</summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>(RuleFailures());
        if (AlertPagesPerHour is < 1 or > 3600)
        {
            failures.Add($"ALERT_PAGES_PER_HOUR must be between 1 and 3600 (got {AlertPagesPerHour}).");
        }

        foreach (var (variable, value) in new[]
        {
            ("SLACK_WEBHOOK_URL", SlackWebhookUrl), ("ALERT_WEBHOOK_URL", AlertWebhookUrl), ("PAGERDUTY_URL", PagerDutyUrl), ("PUBLIC_URL", PublicUrl),
        })
        {
            if (!string.IsNullOrWhiteSpace(value) && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                // The value is not echoed: a webhook URL carries its secret, and start-up errors end in container logs.
                failures.Add($"{variable} must be an absolute http(s) URL; the value set is not (it is not shown, as webhook URLs hold secrets).");
            }
        }

        if (AlertWebhookSecret is { Length: > 0 } secret && secret.StartsWith("whsec_", StringComparison.Ordinal)
            && !Convert.TryFromBase64String(secret["whsec_".Length..], new byte[secret.Length], out _))
        {
            failures.Add("ALERT_WEBHOOK_SECRET starts with whsec_ but the rest is not base64.");
        }

        if (AlertGroupWindowSeconds < 1)
        {
            failures.Add($"ALERT_GROUP_WINDOW_SECONDS must be 1 or more (got {AlertGroupWindowSeconds}).");
        }

        if (AlertSimilarityBits is < 0 or > 32)
        {
            failures.Add($"ALERT_SIMILARITY_BITS must be between 0 and 32 (got {AlertSimilarityBits}).");
        }

        if (AlertMeaningBits is < 0 or > 32)
        {
            failures.Add($"ALERT_MEANING_BITS must be between 0 and 32 (got {AlertMeaningBits}).");
        }

        if (AlertGroupBy?.Trim().ToLowerInvariant() is not ("meaning" or "words"))
        {
            failures.Add($"ALERT_GROUP_BY must be meaning or words (got {AlertGroupBy}).");
        }

        if (AlertSendIntervalMs < 0)
        {
            failures.Add($"ALERT_SEND_INTERVAL_MS must be 0 or more (got {AlertSendIntervalMs}).");
        }

        if (AlertRetryFirstSeconds <= 0 || AlertRetryMaxSeconds < AlertRetryFirstSeconds)
        {
            failures.Add("ALERT_RETRY_FIRST_SECONDS must be above 0 and ALERT_RETRY_MAX_SECONDS at least as large.");
        }

        if (AlertMaxAttempts < 0)
        {
            failures.Add($"ALERT_MAX_ATTEMPTS must be 0 (no limit) or more (got {AlertMaxAttempts}).");
        }

        if (AlertPollSeconds <= 0)
        {
            failures.Add($"ALERT_POLL_SECONDS must be above 0 (got {AlertPollSeconds}).");
        }

        if (!string.IsNullOrWhiteSpace(AlertRulesFile) && !File.Exists(AlertRulesFile))
        {
            failures.Add($"ALERT_RULES_FILE: there is no file '{AlertRulesFile}'.");
        }

        return failures;
    }

    /// <summary>What is wrong with the alert-rule settings, one message naming the variable each.</summary>
    public IEnumerable<string> RuleFailures()
    {
        foreach (var sentiment in AlertSentiments.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!WireNames.TryParseSentiment(sentiment, out _))
            {
                yield return $"ALERT_SENTIMENTS: '{sentiment}' is not one of positive, negative, neutral, mixed.";
            }
        }

        var confidenceSet = !string.IsNullOrWhiteSpace(AlertMinConfidence);
        if (confidenceSet && !Enum.GetValues<ConfidenceLevel>().Any(l => WireNames.Of(l) == AlertMinConfidence.Trim()))
        {
            yield return $"ALERT_MIN_CONFIDENCE must be high, medium or low (got '{AlertMinConfidence}').";
        }

        var sensitivitySet = !string.IsNullOrWhiteSpace(AlertSensitivity);
        if (sensitivitySet && !Analysis.AlertRule.TryParseSensitivity(AlertSensitivity, out _))
        {
            yield return $"ALERT_SENSITIVITY must be balanced, recall or precision (got '{AlertSensitivity}').";
        }

        if (confidenceSet && sensitivitySet)
        {
            yield return "ALERT_SENSITIVITY and ALERT_MIN_CONFIDENCE are both set: they are two alert rules, keep one (ALERT_SENSITIVITY is the current one).";
        }
    }
}
