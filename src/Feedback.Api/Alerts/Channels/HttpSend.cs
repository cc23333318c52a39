using System.Net;
using System.Net.Http.Headers;

namespace Feedback.Api.Alerts.Channels;

/// <summary>Posts a JSON body and turns whatever happens into a <see cref="SendResult"/>, never an exception.</summary>
internal static class HttpSend
{
    /// <summary>
    /// Answers that say the request itself is wrong or the receiver is gone (a malformed or refused payload, a bad
    /// routing key or token, a deleted webhook or archived channel), so the same request would fail every time. 408, 429
    /// and every 5xx are not among them: those say "later".
    /// </summary>
    public static bool IsPermanent(HttpStatusCode status) => status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized
        or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.UnprocessableEntity;

    /// <param name="time">The clock a Retry-After date is read against.</param>
    public static async Task<SendResult> PostAsync(
        HttpClient client, string url, string json, Action<HttpRequestHeaders>? headers, TimeProvider time, CancellationToken cancellationToken)
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
                { Date: { } date } => date - time.GetUtcNow(),
                _ => (TimeSpan?)null,
            };
            return new SendResult(
                false, $"HTTP {(int)response.StatusCode}", retryAfter is { } r && r > TimeSpan.Zero ? r : null, IsPermanent(response.StatusCode));
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
