using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #22 item 6: the series the contract names are there from the start, and with an OTLP collector configured the
/// metrics and traces (requests, PostgreSQL statements, LLM calls) reach it. The collector is a loopback HTTP server
/// taking OTLP over HTTP/protobuf; strings in protobuf are stored as UTF-8, so the bodies are searched as text.
/// </summary>
[Collection(typeof(MetricsCollection))]
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string Complaint = "The export crashes every time I open the quarterly spreadsheet, zebra-7.";

    private FakeOpenAiServer _llm = null!;
    private RecordingReceiver _collector = null!;
    private readonly List<FeedbackApp> _apps = [];

    public async ValueTask InitializeAsync()
    {
        _llm = await FakeOpenAiServer.StartAsync();
        _llm.Reply = _ => FakeReply.Labels("negative", "bug", 0.93);
        _collector = await RecordingReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _llm.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task Before_any_message_every_answer_series_is_at_zero_and_without_an_llm_there_is_no_ai_one()
    {
        var app = Track(new FeedbackApp());

        var scrape = PrometheusText.Parse(await ScrapeTextAsync(app));

        var series = scrape.Series("feedback_requests_total").ToList();
        series.ShouldAllBe(s => s.Value == 0);
        series.Count(s => s.Label("processing_method") == "ml_fallback").ShouldBe(4 * 6);
        series.ShouldContain(s => s.Label("sentiment") == "mixed" && s.Label("topic") == "feature_request" && s.Label("processing_method") == "ml_fallback");
        series.ShouldContain(s => s.Label("processing_method") == "validation");
        series.ShouldNotContain(s => s.Label("processing_method") == "ai");
        scrape.Sum("feedback_cache_hits_total").ShouldBe(0);
        scrape.Sum("feedback_cache_misses_total").ShouldBe(0);
        scrape.Series("llm_tokens_total").ShouldBeEmpty();
    }

    [Fact]
    public async Task With_an_llm_its_token_and_answer_series_start_at_zero_but_fallbacks_appear_only_with_the_first()
    {
        var app = Track(new FeedbackApp(LlmSettings()));

        var scrape = PrometheusText.Parse(await ScrapeTextAsync(app));

        scrape.Series("feedback_requests_total").Count(s => s.Label("processing_method") == "ai").ShouldBe(4 * 6);
        scrape.Series("llm_tokens_total").Select(s => s.Label("direction")).Order(StringComparer.Ordinal).ShouldBe(["input", "output"]);
        scrape.Sum("llm_tokens_total").ShouldBe(0);
        scrape.Series("ai_calls_total").ShouldHaveSingleItem().Value.ShouldBe(0);
        scrape.Series("ai_fallback_total").ShouldBeEmpty();
    }

    [Fact]
    public async Task With_a_collector_metrics_and_traces_of_the_request_its_statements_and_the_llm_call_are_exported_without_the_text()
    {
        var settings = LlmSettings();
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = new Uri(_collector.Url, "/").ToString().TrimEnd('/');
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        var app = Track(new FeedbackApp(settings, store: StoreKind.Postgres));

        (await app.Client().PostFeedbackAsync(new { text = Complaint })).StatusCode.ShouldBe(HttpStatusCode.Created);

        // Spans arrive in batches as they end: waited for until each kind has come (the request's, the writer's insert
        // on PostgreSQL, the LLM call with its model), and the metrics' with the service's own series.
        string[] spans = ["POST /feedback", "postgresql", "INSERT INTO", "gen_ai.operation.name", "test-model"];
        await _collector.WaitForAsync(requests =>
            spans.All(s => Bodies(requests, "/v1/traces").Contains(s, StringComparison.Ordinal))
            && Bodies(requests, "/v1/metrics").Contains("feedback_requests", StringComparison.Ordinal));

        foreach (var path in new[] { "/v1/traces", "/v1/metrics" })
        {
            Bodies(_collector.Requests, path).ShouldNotContain("zebra-7", customMessage: $"the customer's text went to {path}");
        }

        _collector.Requests.ShouldAllBe(r => r.Headers["content-type"] == "application/x-protobuf");
    }

    private Dictionary<string, string> LlmSettings() => new(StringComparer.Ordinal)
    {
        ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
        ["OPENAI_API_KEY"] = "sk-test",
        ["OPENAI_MODEL"] = "test-model",
        ["AI_DEADLINE_MS"] = "10000",
    };

    private static string Bodies(IReadOnlyList<ReceivedRequest> requests, string path) =>
        string.Concat(requests.Where(r => r.Path == path).Select(r => r.Body));

    private FeedbackApp Track(FeedbackApp app)
    {
        _apps.Add(app);
        return app;
    }

    private static async Task<string> ScrapeTextAsync(FeedbackApp app)
    {
        using var response = await app.Client(key: null).GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }
}
