using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>What the fake model does with one request.</summary>
public abstract record FakeReply
{
    /// <summary>A normal chat completion whose message content is <paramref name="Content"/>.</summary>
    public sealed record Answer(string Content) : FakeReply;

    /// <summary>An HTTP error, with an optional Retry-After in seconds.</summary>
    public sealed record Status(int Code, int? RetryAfterSeconds = null) : FakeReply;

    /// <summary>A 200 whose body is not a chat completion at all.</summary>
    public sealed record Garbage(string Body) : FakeReply;

    /// <summary>Waits for the gate before giving the inner reply (never, if the gate is never opened).</summary>
    public sealed record Gated(TaskCompletionSource Gate, FakeReply Then) : FakeReply;

    public static Answer Labels(string sentiment, string topic, double confidence) =>
        new(JsonSerializer.Serialize(new { sentiment, topic, confidence }));
}

/// <summary>One request the fake model received.</summary>
public sealed record ChatRequest(JsonObject Body)
{
    public string System => Messages.First(m => m["role"]!.GetValue<string>() == "system")["content"]!.GetValue<string>();

    public string User => Messages.First(m => m["role"]!.GetValue<string>() == "user")["content"]!.GetValue<string>();

    private IEnumerable<JsonNode> Messages => Body["messages"]!.AsArray().Select(m => m!);
}

/// <summary>
/// An OpenAI-compatible server on a loopback port that speaks the real /v1/chat/completions wire format.
/// A test tells it how to reply (answer, answer late, hang, 429, 500, garbage) and reads what it received.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ChatRequest> _requests = new();
    private int _inFlight;
    private int _maxInFlight;

    private FakeOpenAiServer(WebApplication app) => _app = app;

    /// <summary>Decides the reply to each request; by default a confident negative bug report.</summary>
    public Func<ChatRequest, FakeReply> Reply { get; set; } = _ => FakeReply.Labels("negative", "bug", 0.93);

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<ChatRequest> Requests => [.. _requests];

    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address + "/v1");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var request = new ChatRequest(body);
        _requests.Enqueue(request);
        var now = Interlocked.Increment(ref _inFlight);
        InterlockedMax(ref _maxInFlight, now);
        try
        {
            await WriteAsync(context, Reply(request), body["model"]?.GetValue<string>() ?? "unknown");
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task WriteAsync(HttpContext context, FakeReply reply, string model)
    {
        switch (reply)
        {
            case FakeReply.Gated gated:
                await gated.Gate.Task.WaitAsync(context.RequestAborted);
                await WriteAsync(context, gated.Then, model);
                break;
            case FakeReply.Status status:
                context.Response.StatusCode = status.Code;
                if (status.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await context.Response.WriteAsJsonAsync(new { error = new { message = "fake failure", type = "server_error" } });
                break;
            case FakeReply.Garbage garbage:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(garbage.Body);
                break;
            case FakeReply.Answer answer:
                await context.Response.WriteAsJsonAsync(new
                {
                    id = "chatcmpl-test",
                    @object = "chat.completion",
                    created = 1_764_000_000,
                    model,
                    choices = new[]
                    {
                        new { index = 0, message = new { role = "assistant", content = answer.Content }, finish_reason = "stop" },
                    },
                    usage = new { prompt_tokens = 120, completion_tokens = 14, total_tokens = 134 },
                });
                break;
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
