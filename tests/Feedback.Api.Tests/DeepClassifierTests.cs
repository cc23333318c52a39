using Shouldly;
using System.Text.Json;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Local;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Feedback.Api.Tests;

/// <summary>
/// The default classifier: the sentence encoder and trained heads behind a micro-batching queue, with the lexical
/// model's answer as a provisional stand-in whenever the deep one cannot come within its budget.
/// </summary>
public sealed class DeepClassifierTests : IDisposable
{
    private readonly List<FeedbackApp> _apps = [];

    [Fact]
    public async Task With_the_default_classifier_a_failure_report_is_answered_by_the_deep_model_and_alerts()
    {
        // A generous budget: this test is about what the deep model answers, not about how fast (bench/ measures that).
        var app = Start(("CLASSIFIER", "deep"), ("DEEP_DEADLINE_MS", "10000"));
        await HealthAsync(app, h => h.Str("encoder") == "ready");

        var body = await (await app.Client().PostFeedbackAsync(new { text = "The app crashes every time I try to check out, so I cannot pay for my order." })).JsonAsync();

        body.Str("model").ShouldBe(DeepModel);
        body.Str("status").ShouldBe("final");
        body.Str("sentiment").ShouldBe("negative");
        body.Str("topic").ShouldBe("bug");
        body.GetProperty("topics").EnumerateObject().MaxBy(p => p.Value.GetDouble()).Name.ShouldBe("bug");
        body.GetProperty("topics").EnumerateObject().Sum(p => p.Value.GetDouble()).ShouldBe(1.0, 1e-3);
        body.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        (await HealthAsync(app, _ => true)).Str("classifier").ShouldBe(DeepModel);
    }

    [Fact]
    public async Task Without_a_classifier_setting_the_service_starts_on_the_deep_model()
    {
        var app = Start(("CLASSIFIER", ""));

        var health = await HealthAsync(app, h => h.Str("encoder") == "ready");

        health.Str("classifier").ShouldBe(DeepModel);
        health.Str("status").ShouldBe("ok");
    }

    [Fact]
    public async Task A_slow_encoder_answers_provisionally_with_the_lexical_model_then_the_deep_answer_replaces_it_once()
    {
        using var gate = new ManualResetEventSlim(false);
        var app = Start(services => SlowEncoder(services, gate), ("CLASSIFIER", "deep"), ("DEEP_DEADLINE_MS", "50"));

        var created = await (await app.Client().PostFeedbackAsync(new { text = "Checkout keeps failing with error 502 since this morning." })).JsonAsync();
        var id = created.GetProperty("id").GetInt64();

        created.Str("status").ShouldBe("provisional");
        created.Str("model").ShouldBe(LocalClassifier.CurrentVersion);
        (await HealthAsync(app, _ => true)).Str("encoder").ShouldBe("loading");

        gate.Set();
        var revised = await app.EventuallyAsync(id, r => r.Str("status") == "final");

        revised.Str("model").ShouldBe(DeepModel);
        var revisions = await (await app.Client().GetAsync(new Uri($"/feedback/{id}/revisions", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        var only = revisions.GetProperty("items").EnumerateArray().ShouldHaveSingleItem();
        only.Str("reason").ShouldBe("the deep model answered after the latency budget");
        app.Scalar($"SELECT COUNT(*) FROM feedback_revisions WHERE feedback_id = {id}").ShouldBe(1);
    }

    [Fact]
    public async Task A_provisional_row_left_by_a_restart_is_revised_by_the_deep_model_after_it()
    {
        using var gate = new ManualResetEventSlim(false);
        var first = Start(services => SlowEncoder(services, gate), ("CLASSIFIER", "deep"), ("DEEP_DEADLINE_MS", "50"), ("AI_SWEEP_SECONDS", "1"));
        var created = await (await first.Client().PostFeedbackAsync(new { text = "I was charged twice for my subscription this month." })).JsonAsync();
        var id = created.GetProperty("id").GetInt64();
        created.Str("status").ShouldBe("provisional");

        // The process ends with the encoding still waiting: nothing in memory survives, the row does. The new process
        // has the real encoder, not the gated one.
        var second = first.Restart();
        _apps.Add(second);
        var revised = await second.EventuallyAsync(id, r => r.Str("status") == "final");

        revised.Str("model").ShouldBe(DeepModel);
        gate.Set();
        second.Scalar($"SELECT COUNT(*) FROM feedback_revisions WHERE feedback_id = {id}").ShouldBe(1);
    }

    /// <summary>Polite and factual: no complaint, no emotional word, and something is broken that a person must fix.</summary>
    private const string PoliteReport =
        "Hello, just letting you know that exporting a report to PDF has returned error 500 since Tuesday's update. Thank you for looking into it.";

    [Fact]
    public async Task A_polite_factual_failure_report_alerts_on_the_deep_path_by_the_action_head()
    {
        var app = Start(("CLASSIFIER", "deep"), ("DEEP_DEADLINE_MS", "10000"));
        await HealthAsync(app, h => h.Str("encoder") == "ready");

        var body = await (await app.Client().PostFeedbackAsync(new { text = PoliteReport })).JsonAsync();

        body.Str("model").ShouldBe(DeepModel);
        body.Str("status").ShouldBe("final");
        var answer = DeepAnswer(PoliteReport);
        answer.ActionProbability!.Value.ShouldBeGreaterThanOrEqualTo(AlertRule.Default.ActionThreshold);
        AlertRule.Default.Explain(new AnalysisResult(answer, ProcessingMethod.MlFallback, DeepModel, null, [], false)).ShouldStartWith("alert: the action rule fired");
        body.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        app.Scalar("SELECT COUNT(*) FROM alerts WHERE state = 'open'").ShouldBe(1);
    }

    [Fact]
    public async Task The_fast_classifier_keeps_the_sentiment_rule()
    {
        var app = Start(("CLASSIFIER", "fast"));
        var lexical = new LocalClassifier().Classify(TextRules.Normalise(PoliteReport));

        var body = await (await app.Client().PostFeedbackAsync(new { text = PoliteReport })).JsonAsync();

        body.Str("model").ShouldBe(LocalClassifier.CurrentVersion);
        lexical.ActionProbability.ShouldBeNull();
        var scores = body.GetProperty("scores");
        var alarm = scores.GetProperty("negative").GetDouble() + scores.GetProperty("mixed").GetDouble();
        body.GetProperty("alert_triggered").GetBoolean().ShouldBe(alarm >= AlertRule.Default.MinimumProbability);
        body.GetProperty("alert_triggered").GetBoolean().ShouldBe(AlertRule.Default.Alarms(lexical));
    }

    [Fact]
    public async Task The_alert_of_a_deep_answer_given_after_a_restart_is_the_action_heads_and_stays_after_another()
    {
        using var gate = new ManualResetEventSlim(false);
        var first = Start(services => SlowEncoder(services, gate), ("CLASSIFIER", "deep"), ("DEEP_DEADLINE_MS", "50"), ("AI_SWEEP_SECONDS", "1"));
        var created = await (await first.Client().PostFeedbackAsync(new { text = PoliteReport })).JsonAsync();
        var id = created.GetProperty("id").GetInt64();
        created.Str("status").ShouldBe("provisional");

        // The lexical stand-in was judged by the sentiment rule; after the restart the deep answer is judged again.
        var second = first.Restart();
        _apps.Add(second);
        var revised = await second.EventuallyAsync(id, r => r.Str("status") == "final");
        gate.Set();

        revised.Str("model").ShouldBe(DeepModel);
        revised.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        second.Scalar($"SELECT COUNT(*) FROM alerts WHERE feedback_id = {id} AND state = 'open'").ShouldBe(1);

        var third = second.Restart();
        _apps.Add(third);
        var reread = await third.EventuallyAsync(id, _ => true);
        reread.GetProperty("alert_triggered").GetBoolean().ShouldBeTrue();
        reread.Str("model").ShouldBe(DeepModel);
        third.Scalar($"SELECT COUNT(*) FROM alerts WHERE feedback_id = {id} AND state = 'open'").ShouldBe(1);
        third.Scalar($"SELECT COUNT(*) FROM feedback_revisions WHERE feedback_id = {id}").ShouldBe(1);
    }

    private static Classification DeepAnswer(string text) =>
        new DeepClassifier(new LocalClassifier(), SharedEncoders.Get(new EncoderOptions()), DeepHeads.Default).Classify(TextRules.Normalise(text));

    private static string DeepModel => DeepHeads.Default.Version;

    /// <summary>The real encoder, held at a gate the test opens (a stand-in for load or a cold start).</summary>
    private static void SlowEncoder(IServiceCollection services, ManualResetEventSlim gate)
    {
        services.RemoveAll<DeepTier>();
        services.AddSingleton(_ =>
        {
            var encoder = SharedEncoders.Get(new EncoderOptions());
            var classifier = new DeepClassifier(new LocalClassifier(), encoder, DeepHeads.Default);
            return new DeepTier(classifier, new DeepTierOptions(TimeSpan.FromMilliseconds(50)), texts =>
            {
                gate.Wait(TestContext.Current.CancellationToken);
                return encoder.Value.Encode(texts);
            });
        });
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings) => Start(null, settings);

    private FeedbackApp Start(Action<IServiceCollection>? testServices, params (string Key, string Value)[] settings)
    {
        var app = new FeedbackApp(settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal)) { TestServices = testServices };
        _apps.Add(app);
        return app;
    }

    private static async Task<JsonElement> HealthAsync(FeedbackApp app, Func<JsonElement, bool> condition)
    {
        var client = app.Client(key: null);
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            var health = await (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
            if (condition(health))
            {
                return health;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("/health never reached the expected state.");
    }

    public void Dispose()
    {
        foreach (var app in _apps)
        {
            app.Dispose();
        }
    }
}
