using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Alerts.Channels;

/// <summary>
/// A generic webhook signed as the Standard Webhooks specification says: <c>webhook-id</c> (the idempotency
/// key), <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature</c> = <c>v1,</c> + base64 of
/// HMAC-SHA256 over <c>id.timestamp.body</c> with the shared secret (<c>whsec_</c> + base64, or raw text).
/// </summary>
internal sealed class WebhookChannel(IHttpClientFactory clients, AlertSettings settings, TimeProvider time) : IAlertChannel
{
    public string Name => "webhook";

    public Task<SendResult> SendAsync(AlertMessage message, CancellationToken cancellationToken)
    {
        var body = Payload(message, time.GetUtcNow()).ToJsonString();
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Sign(settings.WebhookSecret, message.IdempotencyKey, timestamp, body);
        return HttpSend.PostAsync(clients.CreateClient(Name), settings.WebhookUrl!, body, headers =>
        {
            headers.Add("webhook-id", message.IdempotencyKey);
            headers.Add("webhook-timestamp", timestamp);
            if (signature is not null)
            {
                headers.Add("webhook-signature", signature);
            }
        }, time, cancellationToken);
    }

    public static string? Sign(string? secret, string id, string timestamp, string body)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return null;
        }

        var key = secret.StartsWith("whsec_", StringComparison.Ordinal)
            ? Convert.FromBase64String(secret["whsec_".Length..])
            : Encoding.UTF8.GetBytes(secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    internal static JsonObject Payload(AlertMessage message, DateTimeOffset now) => new()
    {
        ["type"] = message.DeliveryKind switch
        {
            "summary" => "alert.summary",
            "resolve" => "alert.resolved",
            _ => "alert.created",
        },
        ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
        ["data"] = new JsonObject
        {
            ["alert_group_id"] = message.GroupId,
            ["kind"] = message.GroupKind,
            ["title"] = message.Title,
            ["topic"] = message.Topic,
            ["severity"] = message.Severity,
            ["state"] = message.State,
            ["count"] = message.Count,
            ["first_at"] = message.FirstAt.ToString("O", CultureInfo.InvariantCulture),
            ["last_at"] = message.LastAt.ToString("O", CultureInfo.InvariantCulture),
            ["excerpt"] = message.Summary,
            ["feedback_ids"] = new JsonArray([.. message.FeedbackIds.Select(id => (JsonNode)id)]),
            ["link"] = message.Link?.ToString(),
        },
    };
}
