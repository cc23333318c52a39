using System.Net;
using System.Net.Http.Headers;

namespace Feedback.Api.Alerts.Channels;

/// <summary>Posts a JSON body and turns whatever happens into a <see cref="SendResult"/>, never an exception.</summary>
internal static class HttpSend
{
    public static async Task<SendResult> PostAsync(HttpClient client, string url, string json, Action<HttpRequestHeaders>? headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        headers?.Invoke(request.Headers);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return SendResult.Ok;
            }

            var retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - DateTimeOffset.UtcNow,
                _ => (TimeSpan?)null,
            };
            return new SendResult(false, $"HTTP {(int)response.StatusCode}", retryAfter is { } r && r > TimeSpan.Zero ? r : null);
        }
        catch (HttpRequestException exception)
        {
            return new SendResult(false, exception.StatusCode is { } code ? $"HTTP {(int)code}" : "connection failed");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(false, "timed out");
        }
    }

}
