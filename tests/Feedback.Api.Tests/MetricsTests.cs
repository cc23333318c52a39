using System.Diagnostics;
using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Meters are matched by name, so several hosts in one test process could add to each other's series: these
/// tests run alone, after the parallel ones, and their counts are exact.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>GET /metrics scraped through the in-process host and read as Prometheus text.</summary>
[Collection(typeof(MetricsCollection))]
public sealed class MetricsTests : IAsyncLifetime
{
    private static readonly string[] Complaints =
    [
        "The export crashes every time I open a large spreadsheet.",
        "Login throws an error since the last update, please fix it.",
        "The app freezes whenever I upload more than ten photos.",
    ];

    private static readonly string[] Praise =
    [
        "The new navigation is so much clearer, I find everything now.",
        "Love the redesigned settings screen, it is beautiful and simple.",
    ];

    private const string MixedBilling = "Great product overall, but I was charged twice for the same month.";
    private const string LlmFails = "Checkout takes forever and the invoice page hangs for a minute.";

    private FakeOpenAiServer _llm = null!;
    private RecordingReceiver _slack = null!;
    private RecordingReceiver _webhook = null!;
    private readonly List<FeedbackApp> _apps = [];

    public async ValueTask InitializeAsync()
    {
        _llm = await FakeOpenAiServer.StartAsync();
        _slack = await RecordingReceiver.StartAsync();
        _webhook = await RecordingReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _llm.DisposeAsync();
        await _slack.DisposeAsync();
        await _webhook.DisposeAsync();
    }

    [Fact]
    public async Task The_scrape_has_every_contract_series_with_its_type_and_counts_what_was_posted()
    {
        var app = StartWithLlmAndAlerts();
        var client = app.Client();
        foreach (var text in Complaints.Concat(Praise).Append(MixedBilling).Append(LlmFails).Append("ok"))
        {
            (await client.PostFeedbackAsync(new { text })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // Alert delivery runs in the background: wait until the refused and the accepted deliveries are counted.
        var scrape = await ScrapeUntilAsync(app, s => s.Sum("alerts_failed_total", ("channel", "slack")) > 0 && s.Sum("alerts_sent_total", ("channel", "webhook")) > 0);

        var expectedTypes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["feedback_requests_total"] = "counter",
            ["feedback_latency_seconds"] = "histogram",
            ["ai_fallback_total"] = "counter",
            ["ai_calls_total"] = "counter",
            ["llm_tokens_total"] = "counter",
            ["feedback_cache_hits_total"] = "counter",
            ["feedback_cache_misses_total"] = "counter",
            ["alerts_sent_total"] = "counter",
            ["alerts_failed_total"] = "counter",
            ["alerts_retried_total"] = "counter",
            ["alerts_pending"] = "gauge",
            ["http_server_request_duration_seconds"] = "histogram",
            ["dotnet_gc_heap_total_allocated_bytes_total"] = "counter",
            ["dotnet_gc_pause_time_seconds_total"] = "counter",
            ["dotnet_process_memory_working_set_bytes"] = "gauge",
            ["dotnet_thread_pool_queue_length_total"] = "counter",
        };
        foreach (var (name, type) in expectedTypes)
        {
            scrape.Families.ShouldContainKey(name);
            scrape.Families[name].Type.ShouldBe(type, $"type of {name}");
            scrape.Families[name].Help.ShouldNotBeNullOrWhiteSpace($"help of {name}");
        }

        // Every stored answer, by who decided it; the LLM's answers with the labels it gave.
        Requests(scrape, "negative", "bug", "ai").ShouldBe(3);
        Requests(scrape, "positive", "ux", "ai").ShouldBe(2);
        Requests(scrape, "mixed", "billing", "ai").ShouldBe(1);
        Requests(scrape, "neutral", "general", "validation").ShouldBe(1);
        scrape.Sum("feedback_requests_total", ("processing_method", "ml_fallback")).ShouldBe(1);
        scrape.Sum("feedback_requests_total").ShouldBe(8);
        foreach (var sample in scrape.Series("feedback_requests_total"))
        {
            sample.Label("sentiment").ShouldBeOneOf("positive", "negative", "neutral", "mixed");
            sample.Label("topic").ShouldBeOneOf("bug", "feature_request", "billing", "performance", "ux", "general");
        }

        scrape.Sum("ai_fallback_total", ("reason", "server_error")).ShouldBe(1);
        scrape.Sum("ai_fallback_total").ShouldBe(1);
        scrape.Sum("ai_calls_total", ("outcome", "ok")).ShouldBe(6);
        scrape.Sum("llm_tokens_total", ("direction", "input")).ShouldBe(6 * 120);
        scrape.Sum("llm_tokens_total", ("direction", "output")).ShouldBe(6 * 14);

        ShouldBeAWellFormedHistogram(scrape, "feedback_latency_seconds", count: 8);
        scrape.Series("feedback_latency_seconds_bucket").Select(s => s.Label("le")).ShouldContain("0.5");
        scrape.Sum("http_server_request_duration_seconds_count", ("http_route", "/feedback/"), ("http_request_method", "POST"), ("http_response_status_code", "201"))
            .ShouldBe(8);
        scrape.Series("alerts_pending").ShouldHaveSingleItem().Value.ShouldBeGreaterThanOrEqualTo(0);
        scrape.Sum("dotnet_gc_heap_total_allocated_bytes_total").ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Every_configured_channel_has_its_delivery_series_at_zero_before_any_alert()
    {
        var app = Track(new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
            ["ALERT_WEBHOOK_URL"] = _webhook.Url.ToString(),
        }));

        var scrape = await ScrapeAsync(app);

        foreach (var name in new[] { "alerts_sent_total", "alerts_failed_total", "alerts_retried_total", "alert_deliveries_failed_total" })
        {
            scrape.Series(name).Select(s => s.Label("channel")).Order(StringComparer.Ordinal).ToArray().ShouldBe(["slack", "webhook"], name);
            scrape.Sum(name).ShouldBe(0, name);
        }
    }

    [Fact]
    public async Task With_no_channel_the_delivery_series_are_the_logs()
    {
        var app = Track(new FeedbackApp());

        var scrape = await ScrapeAsync(app);

        scrape.Series("alerts_failed_total").ShouldHaveSingleItem().Label("channel").ShouldBe("log");
        scrape.Sum("alerts_failed_total").ShouldBe(0);
    }

    [Fact]
    public async Task Without_an_llm_the_scrape_still_has_the_cache_counters_and_no_ai_series()
    {
        var app = Track(new FeedbackApp());
        var client = app.Client();
        (await client.PostFeedbackAsync(new { text = Complaints[0] })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.PostFeedbackAsync(new { text = Complaints[0] })).StatusCode.ShouldBe(HttpStatusCode.Created);

        var scrape = await ScrapeAsync(app);

        scrape.Families["feedback_cache_hits_total"].Type.ShouldBe("counter");
        scrape.Families["feedback_cache_misses_total"].Type.ShouldBe("counter");
        scrape.Sum("feedback_cache_hits_total").ShouldBe(1);
        scrape.Sum("feedback_cache_misses_total").ShouldBe(1);
        scrape.Sum("feedback_requests_total", ("processing_method", "ml_fallback")).ShouldBe(2);

        // No LLM configured is not a fallback: the fallback alert rule must not see one.
        scrape.Series("ai_fallback_total").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_scrape_passes_promtool_check_metrics()
    {
        var promtool = FindOnPath("promtool");
        if (promtool is null)
        {
            Assert.Skip("promtool is not installed (Debian: apt-get install prometheus); the scrape was not linted.");
        }

        var app = StartWithLlmAndAlerts();
        var client = app.Client();
        foreach (var text in Complaints.Append(LlmFails).Append("ok"))
        {
            await client.PostFeedbackAsync(new { text });
        }

        var scrape = await ScrapeTextAsync(app);

        var info = new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.StandardInput.WriteAsync(scrape);
        process.StandardInput.Close();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        process.ExitCode.ShouldBe(0, $"promtool check metrics said:\n{await output}{await errors}");
    }

    [Fact]
    public void The_parser_reads_escapes_help_before_type_and_timestamps_and_rejects_a_broken_line()
    {
        const string text = """
            # HELP odd_total A help text with a \\ backslash\nand a second line.
            # TYPE odd_total counter
            odd_total{path="C:\\dir\\\"quoted\"",note="line\nbreak",empty=""} 3 1764000000000
            odd_total{path="plain" , } 4.5e1
            # TYPE lat_seconds histogram
            lat_seconds_bucket{le="0.5"} 1
            lat_seconds_bucket{le="+Inf"} 2
            lat_seconds_sum 0.75
            lat_seconds_count 2
            loose_metric NaN
            """;

        var scrape = PrometheusText.Parse(text);

        scrape.Families["odd_total"].Help.ShouldBe("A help text with a \\ backslash\nand a second line.");
        var first = scrape.Series("odd_total").First();
        first.Label("path").ShouldBe("C:\\dir\\\"quoted\"");
        first.Label("note").ShouldBe("line\nbreak");
        first.Labels["empty"].ShouldBe("");
        scrape.Sum("odd_total").ShouldBe(48);
        scrape.Families["lat_seconds"].Samples.Count.ShouldBe(4);
        scrape.Families["loose_metric"].Type.ShouldBe("untyped");
        double.IsNaN(scrape.Series("loose_metric").Single().Value).ShouldBeTrue();

        Should.Throw<FormatException>(() => PrometheusText.Parse("broken{label=\"open} 1")).Message.ShouldContain("Line 1");
        Should.Throw<FormatException>(() => PrometheusText.Parse("a 1\n# TYPE a counter")).Message.ShouldContain("after its samples");
        Should.Throw<FormatException>(() => PrometheusText.Parse("a{x=\"1\",x=\"2\"} 1")).Message.ShouldContain("twice");
        Should.Throw<FormatException>(() => PrometheusText.Parse("a one")).Message.ShouldContain("not a sample value");
    }

    private static double Requests(PrometheusText scrape, string sentiment, string topic, string method) =>
        scrape.Sum("feedback_requests_total", ("sentiment", sentiment), ("topic", topic), ("processing_method", method));

    /// <summary>Buckets never decrease, the +Inf bucket equals _count, and _count is what was observed.</summary>
    private static void ShouldBeAWellFormedHistogram(PrometheusText scrape, string name, double count)
    {
        var buckets = scrape.Series(name + "_bucket")
            .Select(s => (Le: s.Label("le") == "+Inf" ? double.PositiveInfinity : double.Parse(s.Label("le"), System.Globalization.CultureInfo.InvariantCulture), s.Value))
            .OrderBy(b => b.Le)
            .ToList();
        buckets.Count.ShouldBeGreaterThan(2);
        buckets.Zip(buckets.Skip(1)).ShouldAllBe(pair => pair.First.Value <= pair.Second.Value);
        buckets[^1].Le.ShouldBe(double.PositiveInfinity);
        buckets[^1].Value.ShouldBe(count);
        scrape.Sum(name + "_count").ShouldBe(count);
        scrape.Sum(name + "_sum").ShouldBeGreaterThan(0);
    }

    private FeedbackApp StartWithLlmAndAlerts()
    {
        _llm.Reply = request =>
        {
            if (request.User.Contains(LlmFails, StringComparison.Ordinal))
            {
                return new FakeReply.Status(500);
            }

            return Complaints.Any(c => request.User.Contains(c, StringComparison.Ordinal)) ? FakeReply.Labels("negative", "bug", 0.93)
                : Praise.Any(p => request.User.Contains(p, StringComparison.Ordinal)) ? FakeReply.Labels("positive", "ux", 0.9)
                : FakeReply.Labels("mixed", "billing", 0.85);
        };
        _slack.Answer = () => new ReceiverAnswer(500);
        return Track(new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["OPENAI_API_KEY"] = "sk-test",
            ["OPENAI_MODEL"] = "test-model",
            ["AI_DEADLINE_MS"] = "10000",
            ["SLACK_WEBHOOK_URL"] = _slack.Url.ToString(),
            ["ALERT_WEBHOOK_URL"] = _webhook.Url.ToString(),
            ["ALERT_SEND_INTERVAL_MS"] = "0",
            ["ALERT_POLL_SECONDS"] = "1",
        }));
    }

    private FeedbackApp Track(FeedbackApp app)
    {
        _apps.Add(app);
        return app;
    }

    private static async Task<string> ScrapeTextAsync(FeedbackApp app)
    {
        using var response = await app.Client(key: null).GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<PrometheusText> ScrapeAsync(FeedbackApp app) => PrometheusText.Parse(await ScrapeTextAsync(app));

    private static async Task<PrometheusText> ScrapeUntilAsync(FeedbackApp app, Func<PrometheusText, bool> condition)
    {
        for (var attempt = 0; ; attempt++)
        {
            var scrape = await ScrapeAsync(app);
            // A minute of 100 ms pauses: background work has no fixed duration, and the bound only ends a hung test.
            if (condition(scrape) || attempt == 600)
            {
                return scrape;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}
