using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The request log line, the error answers' trace id, and what the hosting layer is left to do for them.</summary>
public sealed class RequestLogTests
{
    private const string HostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>The request log at Information, as a deployment has it (the tests' default leaves it out).</summary>
    private static Dictionary<string, string> RequestLog(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["Logging:LogLevel:Feedback"] = "Information" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task An_error_answer_carries_the_request_id_its_log_line_shows()
    {
        using var app = new FeedbackApp(RequestLog());

        var response = await app.Client().PostFeedbackAsync(new { text = "" });

        response.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        var traceId = (await response.JsonAsync()).Str("traceId");
        var line = await RequestLineAsync(app, "POST /feedback/ answered 422");
        line.ShouldContain($"RequestId={traceId} ");
    }

    [Fact]
    public async Task The_hosting_layers_own_request_lines_are_still_written_when_asked_for()
    {
        using var app = new FeedbackApp(RequestLog(("Logging:LogLevel:Microsoft.AspNetCore", "Information")));

        await app.Client().PostFeedbackAsync(new { text = "The export button does nothing at all." });

        await RequestLineAsync(app, "POST /feedback/ answered 201");
        app.Logs.Events.ShouldContain(e => e.Category == HostingCategory && e.Text.Contains("Request starting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_json_log_keeps_the_hosting_trace_so_its_scopes_can_name_the_request()
    {
        using var app = new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["LOG_FORMAT"] = "json" });

        var response = await app.Client().PostFeedbackAsync(new { text = "" });

        // A W3C trace context id (version, trace id, span id, flags): the hosting layer's Activity, which the JSON log's
        // scopes carry on every line of the request.
        var traceId = (await response.JsonAsync()).Str("traceId");
        traceId.ShouldStartWith("00-");
        traceId.Length.ShouldBe(55);
    }

    /// <summary>
    /// The request's log line, once written: it is written after the answer has gone, so it is waited for (up to 30 s,
    /// far above the milliseconds it takes).
    /// </summary>
    private static async Task<string> RequestLineAsync(FeedbackApp app, string start)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = app.Logs.Events
                .Where(e => e.Level == LogLevel.Information && e.Category == "Feedback.Api.Operations.RequestLogging")
                .Select(e => e.Text)
                .FirstOrDefault(text => text.StartsWith(start, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (timeout.IsCancellationRequested)
            {
                throw new ShouldAssertException(
                    $"No request log line starts with '{start}'. The log has:\n{string.Join('\n', app.Logs.Events.Select(e => $"{e.Level} {e.Category}: {e.Text}"))}");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }
}
