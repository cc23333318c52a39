using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>One request a receiver got, and what it answered.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, string Body, int Status)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>How a receiver answers: a status code, optionally with Retry-After, or no answer at all.</summary>
public sealed record ReceiverAnswer(int Status, int? RetryAfterSeconds = null, bool Hang = false)
{
    public static ReceiverAnswer Ok { get; } = new(200);
}

/// <summary>
/// A webhook receiver on a loopback port (Slack, a generic webhook, PagerDuty) that records every request
/// and answers as the test says: succeed, fail, answer 429 with Retry-After, or hang.
/// </summary>
public sealed class RecordingReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();

    private RecordingReceiver(WebApplication app) => _app = app;

    public Func<ReceiverAnswer> Answer { get; set; } = () => ReceiverAnswer.Ok;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    public IReadOnlyList<ReceivedRequest> Accepted => [.. _requests.Where(r => r.Status is >= 200 and < 300)];

    public static async Task<RecordingReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new RecordingReceiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address + "/hook");
        return receiver;
    }

    /// <summary>Waits (without timing anything) until the receiver has seen <paramref name="count"/> requests matching.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<ReceivedRequest>, bool> condition, Func<Task>? between = null)
    {
        for (var i = 0; i < 1200; i++)
        {
            if (condition(Requests))
            {
                return;
            }

            if (between is not null)
            {
                await between();
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"The receiver never saw what the test waited for ({Requests.Count} requests).");
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var answer = Answer();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        _requests.Enqueue(new ReceivedRequest(context.Request.Path, headers, body, answer.Hang ? 0 : answer.Status));
        if (answer.Hang)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.WriteAsync(answer.Status < 300 ? "ok" : "failed");
    }
}
