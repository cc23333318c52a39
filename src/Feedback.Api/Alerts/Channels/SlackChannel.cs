using System.Globalization;
using System.Text.Json.Nodes;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts.Channels;

/// <summary>A Slack incoming webhook: one Block Kit message per delivery.</summary>
internal sealed class SlackChannel(IHttpClientFactory clients, AlertSettings settings, TimeProvider time) : IAlertChannel
{
    public string Name => "slack";

    public Task<SendResult> SendAsync(AlertMessage message, CancellationToken cancellationToken) =>
        HttpSend.PostAsync(clients.CreateClient(Name), settings.SlackWebhookUrl!, Payload(message).ToJsonString(), null, time, cancellationToken);

    internal static JsonObject Payload(AlertMessage message)
    {
        var first = message.Feedback.Count > 0 ? message.Feedback[0] : null;
        var ids = string.Join(", ", message.FeedbackIds.Take(20)) + (message.Feedback.Count > 20 ? ", ..." : "");
        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "header",
                ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Truncate(message.Title, 150) },
            },
            new JsonObject
            {
                ["type"] = "section",
                ["fields"] = new JsonArray
                {
                    Field("Sentiment", first?.Sentiment ?? "negative"),
                    Field("Topic", message.Topic),
                    Field("Confidence", first is null ? "n/a" : $"{first.ConfidenceScore} ({first.Confidence.ToString("0.00", CultureInfo.InvariantCulture)})"),
                    Field("Severity", message.Severity),
                },
            },
            new JsonObject
            {
                ["type"] = "section",
                // Verbatim: Slack then turns no URL, @name or #channel in the customer's words into a link or a ping.
                ["text"] = new JsonObject
                {
                    ["type"] = "mrkdwn",
                    ["text"] = "> " + Escape(message.Summary).Replace("\n", "\n> ", StringComparison.Ordinal),
                    ["verbatim"] = true,
                },
            },
            new JsonObject
            {
                ["type"] = "context",
                ["elements"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "mrkdwn",
                        ["text"] = $"Alert group {message.GroupId} · {message.Count} message(s) · feedback {ids} · id `{message.IdempotencyKey}`",
                    },
                },
            },
        };
        if (message.Link is { } link)
        {
            blocks.Add(new JsonObject
            {
                ["type"] = "actions",
                ["elements"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "button",
                        ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = "Open in Feedback" },
                        ["url"] = link.ToString(),
                    },
                },
            });
        }

        return new JsonObject
        {
            ["text"] = $"{message.Title} (alert group {message.GroupId}, feedback {ids})",
            ["blocks"] = blocks,
        };
    }

    private static JsonObject Field(string name, string value) =>
        new() { ["type"] = "mrkdwn", ["text"] = $"*{name}*\n{Escape(value)}" };

    /// <summary>Slack's three control characters in mrkdwn; customer text must not become a mention or a link.</summary>
    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";
}
