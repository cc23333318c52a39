using System.Net;
using System.Text.RegularExpressions;
using Feedback.Analysis;
using Feedback.Analysis.Llm;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The LLM path when something other than the model fails inside the call (here the PII redactor's regex timing out,
/// forced through the redaction seam) against an OpenAI-compatible server on loopback: the message is still stored with
/// the local answer, and the circuit breaker counts it as a failure and recovers afterwards.
/// </summary>
public abstract class LlmCircuitTests(StoreKind store) : IAsyncLifetime
{
    private const string Complaint = "The app crashes every time I upload a photo and I lost my whole album.";
    private const string Praise = "I love this app, it is fast, beautiful and makes my day so much easier. Great job!";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private FakeOpenAiServer _llm = null!;
    private FeedbackApp? _app;
    private volatile bool _redactionTimesOut;

    public async ValueTask InitializeAsync() => _llm = await FakeOpenAiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _llm.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_redactor_timeout_in_the_llm_path_stores_the_local_answer_instead_of_a_500()
    {
        var client = Start().Client();
        _redactionTimesOut = true;

        var response = await client.PostFeedbackAsync(new { text = Complaint });

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        body.Str("processing_method").ShouldBe("ml_fallback");
        body.Str("status").ShouldBe("final");
        body.Str("sentiment").ShouldBeOneOf("negative", "mixed");
        var stored = await client.GetAsync(new Uri($"/feedback/{body.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken);
        stored.StatusCode.ShouldBe(HttpStatusCode.OK);
        _llm.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_trial_call_that_throws_releases_the_circuit_and_the_provider_is_used_again_after_the_break()
    {
        _llm.Reply = _ => FakeReply.Labels("positive", "ux", 0.95);
        var client = Start().Client();

        // The first failure opens the circuit (threshold 1); the trial after the break fails the same way.
        _redactionTimesOut = true;
        (await client.PostFeedbackAsync(new { text = Complaint })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await HealthAsync(client)).Str("ai_provider").ShouldBe("degraded");
        _time.Advance(TimeSpan.FromSeconds(31));
        var trial = await client.PostFeedbackAsync(new { text = $"{Complaint} Again." });
        trial.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await trial.JsonAsync()).Str("processing_method").ShouldBe("ml_fallback");

        // Once redaction works again, the next trial reaches the provider and closes the circuit.
        _redactionTimesOut = false;
        _time.Advance(TimeSpan.FromSeconds(31));
        var recovered = await (await client.PostFeedbackAsync(new { text = Praise })).JsonAsync();

        recovered.Str("processing_method").ShouldBe("ai");
        _llm.Requests.Count.ShouldBe(1);
        (await HealthAsync(client)).Str("ai_provider").ShouldBe("healthy");
    }

    private static async Task<System.Text.Json.JsonElement> HealthAsync(HttpClient client) =>
        await (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

    /// <summary>The host's LLM provider, with a redactor that times out while the test says so.</summary>
    private FeedbackApp Start()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = _llm.BaseUrl.ToString(),
            ["OPENAI_API_KEY"] = "sk-test",
            ["OPENAI_MODEL"] = "test-model",
            ["AI_DEADLINE_MS"] = "10000",
        };
        _app = new FeedbackApp(settings, _time, store: store)
        {
            TestServices = services => services.AddSingleton(sp => new AiProvider(
                sp.GetRequiredService<LlmClassifier>(),
                new AiOptions
                {
                    Model = "test-model",
                    Prompt = PromptLibrary.Get("v2"),
                    Deadline = TimeSpan.FromSeconds(10),
                    CircuitFailures = 1,
                    CircuitBreak = TimeSpan.FromSeconds(30),
                    Redact = Redact,
                },
                sp.GetRequiredService<ClassificationCache>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<AnalysisMetrics>())),
        };
        return _app;
    }

    private string Redact(string text) =>
        _redactionTimesOut ? throw new RegexMatchTimeoutException(text, "email", TimeSpan.FromMilliseconds(200)) : PiiRedactor.Redact(text);
}

public sealed class LlmCircuitOnSqliteTests() : LlmCircuitTests(StoreKind.Sqlite);

public sealed class LlmCircuitOnPostgresTests() : LlmCircuitTests(StoreKind.Postgres);
