using System.Text.Json;
using Feedback.Api.Hosting;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// LLM_TOKEN_BUDGET_MONTHLY against an OpenAI-compatible server on loopback that reports 120 input and 14 output tokens
/// a call (134 in all): the store counts every call's tokens, the answers past the budget are the local classifier's
/// with the warning llm_budget_exhausted, the 80 % and 100 % alerts go through the outbox once each, and /stats tells
/// the calls, tokens and cost.
/// </summary>
public abstract class LlmBudgetTests(StoreKind store) : IAsyncLifetime
{
    /// <summary>Three calls fit (134, 268, then 402 passes it); 80 % (240) is reached by the second.</summary>
    private const string Budget = "300";

    private FakeOpenAiServer _llm = null!;
    private RecordingReceiver _slack = null!;
    private readonly List<FeedbackApp> _apps = [];

    public async ValueTask InitializeAsync()
    {
        _llm = await FakeOpenAiServer.StartAsync();

        // Praise the LLM calls praise: no message raises an alert, so the budget's are the only ones Slack gets.
        _llm.Reply = _ => FakeReply.Labels("positive", "ux", 0.92);
        _slack = await RecordingReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _slack.DisposeAsync();
        await _llm.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_budget_of_a_few_hundred_tokens_runs_out_and_the_next_message_is_answered_locally_with_the_warning()
    {
        var app = Start(("LLM_TOKEN_BUDGET_MONTHLY", Budget));
        var client = app.Client();

        for (var i = 0; i < 3; i++)
        {
            var answered = await (await client.PostFeedbackAsync(new { text = Praise(i) })).JsonAsync();
            answered.Str("processing_method").ShouldBe("ai");
            Warnings(answered).ShouldBeEmpty();
        }

        var local = await (await client.PostFeedbackAsync(new { text = Praise(3) })).JsonAsync();

        local.Str("processing_method").ShouldBe("ml_fallback");
        local.Str("status").ShouldBe("final");
        Warnings(local).ShouldBe(["llm_budget_exhausted"]);
        _llm.Requests.Count.ShouldBe(3);
        app.Scalar("SELECT sum(calls) FROM llm_usage").ShouldBe(3);
        app.Scalar("SELECT sum(input_tokens) FROM llm_usage").ShouldBe(3 * 120);
        app.Scalar("SELECT sum(output_tokens) FROM llm_usage").ShouldBe(3 * 14);

        // The stored row keeps the warning, as GET shows it.
        var stored = await (await client.GetAsync(new Uri($"/feedback/{local.GetProperty("id").GetInt64()}", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();
        Warnings(stored).ShouldBe(["llm_budget_exhausted"]);
    }

    [Fact]
    public async Task The_80_and_100_percent_alerts_go_through_the_outbox_once_each()
    {
        var app = Start(("LLM_TOKEN_BUDGET_MONTHLY", Budget), ("SLACK_WEBHOOK_URL", _slack.Url.ToString()), ("ALERT_SEND_INTERVAL_MS", "0"));
        var client = app.Client();

        await client.PostFeedbackAsync(new { text = Praise(0) });
        app.Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget'").ShouldBe(0, "134 of 300 tokens is under 80 %");
        await client.PostFeedbackAsync(new { text = Praise(1) });
        app.Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'medium'").ShouldBe(1);
        app.Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'high'").ShouldBe(0);

        // The third call passes the budget; the messages after it are local and raise nothing more.
        for (var i = 2; i < 6; i++)
        {
            await client.PostFeedbackAsync(new { text = Praise(i) });
        }

        await _slack.WaitForAsync(requests => requests.Count >= 2);

        app.Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget'").ShouldBe(2);
        app.Scalar("SELECT count(*) FROM alert_deliveries d JOIN alert_groups g ON g.id = d.group_id WHERE g.kind = 'llm_budget'").ShouldBe(2);
        app.Scalar("SELECT count(*) FROM alert_groups WHERE kind <> 'llm_budget'").ShouldBe(0);
        var titles = _slack.Requests.Select(r => r.Json["blocks"]![0]!["text"]!["text"]!.GetValue<string>()).ToList();
        titles.ShouldBe(["LLM budget: 80 % of the month's tokens used", "LLM budget spent: answers are local until the month turns"], ignoreOrder: true);
        var spent = _slack.Requests.Single(r => r.Body.Contains("spent:", StringComparison.Ordinal)).Body;
        spent.ShouldContain("402 of 300 tokens");
        spent.ShouldContain("llm_budget_exhausted");
    }

    [Fact]
    public async Task Stats_report_the_windows_llm_calls_tokens_and_cost_and_the_months_spend_against_the_budget()
    {
        var app = Start(("LLM_TOKEN_BUDGET_MONTHLY", "1000"), ("LLM_PRICE_INPUT_PER_1K", "0.15"), ("LLM_PRICE_OUTPUT_PER_1K", "0.6"));
        var client = app.Client();
        await client.PostFeedbackAsync(new { text = Praise(0) });
        await client.PostFeedbackAsync(new { text = Praise(1) });

        // Too short to analyse: a message that costs nothing, but counts in the cost per 1,000 messages.
        await client.PostFeedbackAsync(new { text = "ok" });

        var llm = (await (await client.GetAsync(new Uri("/stats?bucket=hour", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync()).GetProperty("llm");

        llm.GetProperty("calls").GetInt64().ShouldBe(2);
        llm.GetProperty("input_tokens").GetInt64().ShouldBe(240);
        llm.GetProperty("output_tokens").GetInt64().ShouldBe(28);

        // (240 × 0.15 + 28 × 0.6) / 1000, over 3 messages.
        llm.GetProperty("cost").GetDecimal().ShouldBe(0.0528m);
        llm.GetProperty("cost_per_1000_messages").GetDecimal().ShouldBe(17.6m);
        var month = llm.GetProperty("month");
        month.GetProperty("tokens").GetInt64().ShouldBe(268);
        month.GetProperty("budget_tokens").GetInt64().ShouldBe(1000);
        month.GetProperty("cost").GetDecimal().ShouldBe(0.0528m);
        month.GetProperty("exhausted").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Stats_without_prices_tell_tokens_and_no_cost()
    {
        var app = Start();
        var client = app.Client();
        await client.PostFeedbackAsync(new { text = Praise(0) });

        var llm = (await (await client.GetAsync(new Uri("/stats", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync()).GetProperty("llm");

        llm.GetProperty("calls").GetInt64().ShouldBe(1);
        llm.GetProperty("input_tokens").GetInt64().ShouldBe(120);
        llm.GetProperty("cost").ValueKind.ShouldBe(JsonValueKind.Null);
        llm.GetProperty("cost_per_1000_messages").ValueKind.ShouldBe(JsonValueKind.Null);
        llm.GetProperty("month").GetProperty("budget_tokens").ValueKind.ShouldBe(JsonValueKind.Null);
        llm.GetProperty("month").GetProperty("exhausted").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task When_the_month_turns_the_llm_answers_again()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 23, 10, 0, TimeSpan.Zero));
        var app = Start(time, ("LLM_TOKEN_BUDGET_MONTHLY", "200"));
        var client = app.Client();

        (await (await client.PostFeedbackAsync(new { text = Praise(0) })).JsonAsync()).Str("processing_method").ShouldBe("ai");
        (await (await client.PostFeedbackAsync(new { text = Praise(1) })).JsonAsync()).Str("processing_method").ShouldBe("ai");
        Warnings(await (await client.PostFeedbackAsync(new { text = Praise(2) })).JsonAsync()).ShouldBe(["llm_budget_exhausted"]);

        time.Advance(TimeSpan.FromMinutes(55));
        var december = await (await client.PostFeedbackAsync(new { text = Praise(3) })).JsonAsync();

        december.Str("processing_method").ShouldBe("ai");
        Warnings(december).ShouldBeEmpty();
        _llm.Requests.Count.ShouldBe(3);
    }

    [Fact]
    public async Task A_rejected_answer_counts_the_tokens_the_provider_billed()
    {
        _llm.Reply = _ => new FakeReply.Answer("Sure! It sounds positive to me.");
        var app = Start();

        var body = await (await app.Client().PostFeedbackAsync(new { text = Praise(0) })).JsonAsync();

        body.Str("processing_method").ShouldBe("ml_fallback");
        app.Scalar("SELECT sum(calls) FROM llm_usage").ShouldBe(1);
        app.Scalar("SELECT sum(input_tokens + output_tokens) FROM llm_usage").ShouldBe(134);
    }

    [Fact]
    public async Task An_answer_that_comes_after_the_deadline_counts_its_tokens_with_the_revision()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _llm.Reply = _ => new FakeReply.Gated(gate, FakeReply.Labels("positive", "ux", 0.92));
        var app = Start(("AI_DEADLINE_MS", "100"));

        var body = await (await app.Client().PostFeedbackAsync(new { text = Praise(0) })).JsonAsync();
        body.Str("status").ShouldBe("provisional");
        app.Scalar("SELECT count(*) FROM llm_usage").ShouldBe(0, "no call has answered yet");

        gate.SetResult();
        await app.EventuallyAsync(body.GetProperty("id").GetInt64(), r => r.Str("status") == "final");

        app.Scalar("SELECT sum(calls) FROM llm_usage").ShouldBe(1);
        app.Scalar("SELECT sum(input_tokens) FROM llm_usage").ShouldBe(120);
    }

    internal static string Praise(int i) =>
        $"Message {i}: I love the new reports page, it is wonderful and so easy to use, thank you for building it!";

    internal static List<string> Warnings(JsonElement body) => [.. body.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!)];

    private FeedbackApp Start(params (string Key, string Value)[] settings) => Start(null, settings);

    private FeedbackApp Start(TimeProvider? time, params (string Key, string Value)[] settings)
    {
        var app = new FeedbackApp(LlmSettings(_llm, settings), time, store: store);
        _apps.Add(app);
        return app;
    }

    internal static Dictionary<string, string> LlmSettings(FakeOpenAiServer llm, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = llm.BaseUrl.ToString(),
            ["OPENAI_API_KEY"] = "sk-test",
            ["OPENAI_MODEL"] = "test-model",
            ["AI_DEADLINE_MS"] = "10000",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }
}

public sealed class LlmBudgetOnSqliteTests() : LlmBudgetTests(StoreKind.Sqlite);

public sealed class LlmBudgetOnPostgresTests() : LlmBudgetTests(StoreKind.Postgres);

/// <summary>Two instances sharing one PostgreSQL database hold one budget: what either spends, both count.</summary>
public sealed class LlmBudgetAcrossInstancesTests : IAsyncLifetime
{
    private readonly List<FeedbackApp> _apps = [];
    private PostgresDatabase _database = null!;
    private FakeOpenAiServer _llm = null!;

    public async ValueTask InitializeAsync()
    {
        _database = PostgresDatabase.Create();
        _llm = await FakeOpenAiServer.StartAsync();
        _llm.Reply = _ => FakeReply.Labels("positive", "ux", 0.92);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        await _llm.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task The_budget_spent_across_two_instances_stops_both_and_each_alert_is_raised_once()
    {
        var first = Start().Client();
        var second = Start().Client();

        // 134 on the first, 268 on the second (80 % reached there), 402 on the first (the budget passed there).
        (await (await first.PostFeedbackAsync(new { text = LlmBudgetTests.Praise(0) })).JsonAsync()).Str("processing_method").ShouldBe("ai");
        (await (await second.PostFeedbackAsync(new { text = LlmBudgetTests.Praise(1) })).JsonAsync()).Str("processing_method").ShouldBe("ai");
        (await (await first.PostFeedbackAsync(new { text = LlmBudgetTests.Praise(2) })).JsonAsync()).Str("processing_method").ShouldBe("ai");

        // The second instance never saw the budget pass: it reads what the first counted.
        var onSecond = await (await second.PostFeedbackAsync(new { text = LlmBudgetTests.Praise(3) })).JsonAsync();
        var onFirst = await (await first.PostFeedbackAsync(new { text = LlmBudgetTests.Praise(4) })).JsonAsync();

        onSecond.Str("processing_method").ShouldBe("ml_fallback");
        LlmBudgetTests.Warnings(onSecond).ShouldBe(["llm_budget_exhausted"]);
        onFirst.Str("processing_method").ShouldBe("ml_fallback");
        LlmBudgetTests.Warnings(onFirst).ShouldBe(["llm_budget_exhausted"]);
        _llm.Requests.Count.ShouldBe(3);
        _apps[0].Scalar("SELECT sum(calls) FROM llm_usage").ShouldBe(3);
        _apps[0].Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'medium'").ShouldBe(1);
        _apps[0].Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'high'").ShouldBe(1);
    }

    [Fact]
    public async Task Two_instances_posting_at_once_raise_each_budget_alert_once()
    {
        var first = Start(("AI_MAX_CONCURRENCY", "64")).Client();
        var second = Start(("AI_MAX_CONCURRENCY", "64")).Client();

        // Twenty calls at once, ten on each: the budget is passed many times over by calls already under way.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? first : second).PostFeedbackAsync(new { text = LlmBudgetTests.Praise(i) })));

        _apps[0].Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'medium'").ShouldBe(1);
        _apps[0].Scalar("SELECT count(*) FROM alert_groups WHERE kind = 'llm_budget' AND severity = 'high'").ShouldBe(1);
        _apps[0].Scalar("SELECT sum(calls) FROM llm_usage").ShouldBe(_llm.Requests.Count);
    }

    private FeedbackApp Start(params (string Key, string Value)[] settings)
    {
        var app = new FeedbackApp(_database, LlmBudgetTests.LlmSettings(_llm, [("LLM_TOKEN_BUDGET_MONTHLY", "300"), .. settings]));
        _apps.Add(app);
        return app;
    }
}

/// <summary>The budget's settings as the server checks them at start.</summary>
public sealed class LlmBudgetSettingsTests
{
    [Theory]
    [InlineData("LLM_TOKEN_BUDGET_MONTHLY", "0")]
    [InlineData("LLM_TOKEN_BUDGET_MONTHLY", "-5")]
    [InlineData("LLM_PRICE_INPUT_PER_1K", "-0.1")]
    [InlineData("LLM_PRICE_OUTPUT_PER_1K", "-2")]
    public void A_budget_or_price_out_of_range_stops_the_start_naming_it(string variable, string value)
    {
        var result = Validate((variable, value));

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain(variable);
    }

    [Fact]
    public void A_budget_with_prices_in_the_invariant_format_is_valid_and_no_budget_is_too()
    {
        Validate(("LLM_TOKEN_BUDGET_MONTHLY", "2000000"), ("LLM_PRICE_INPUT_PER_1K", "0.00015"), ("LLM_PRICE_OUTPUT_PER_1K", "0.0006")).Succeeded.ShouldBeTrue();
        Validate().Succeeded.ShouldBeTrue();

        // As .env.example leaves them: empty is unset.
        Validate(("LLM_TOKEN_BUDGET_MONTHLY", ""), ("LLM_PRICE_INPUT_PER_1K", ""), ("LLM_PRICE_OUTPUT_PER_1K", "")).Succeeded.ShouldBeTrue();
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value)).Append(KeyValuePair.Create("API_KEY", (string?)FeedbackApp.Key)))
            .Build();
        var settings = new Feedback.Analysis.Llm.LlmSettings();
        configuration.Bind(settings);
        return new FailuresValidator<Feedback.Analysis.Llm.LlmSettings>(s => s.Failures()).Validate(null, settings);
    }
}

/// <summary>The budget's arithmetic: cost from prices, and which alerts a month's total has reached.</summary>
public sealed class LlmBudgetAlertsTests
{
    [Fact]
    public void Cost_is_priced_per_thousand_tokens_a_missing_price_counts_as_zero_and_no_prices_give_no_cost()
    {
        new Feedback.Analysis.Llm.LlmPricing(null, 0.15m, 0.6m).Cost(240, 28).ShouldBe(0.0528m);
        new Feedback.Analysis.Llm.LlmPricing(null, 0.15m, null).Cost(240, 28).ShouldBe(0.036m);
        new Feedback.Analysis.Llm.LlmPricing(1000, null, null).Cost(240, 28).ShouldBeNull();
    }

    [Theory]
    [InlineData(300, 239, new int[0])]
    [InlineData(300, 240, new[] { 80 })]
    [InlineData(300, 299, new[] { 80 })]
    [InlineData(300, 300, new[] { 80, 100 })]
    [InlineData(300, 5000, new[] { 80, 100 })]
    [InlineData(301, 240, new int[0])]
    [InlineData(301, 241, new[] { 80 })]
    public void A_months_total_reaches_80_and_100_percent_of_the_budget_in_whole_tokens(long budget, long tokens, int[] percents)
    {
        var alerts = new Storage.Alerts.LlmBudgetAlerts(new Feedback.Analysis.Llm.LlmPricing(budget, null, null))
            .Reached(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), tokens).ToList();

        alerts.Select(a => a.Percent).ShouldBe(percents);
        alerts.Select(a => a.DedupKey).ShouldBe(percents.Select(p => $"llm_budget:2026-12:{p}"));
        alerts.Select(a => a.Severity).ShouldBe(percents.Select(p => p == 100 ? "high" : "medium"));
    }

    [Fact]
    public void Without_a_budget_nothing_is_ever_reached()
    {
        var alerts = new Storage.Alerts.LlmBudgetAlerts(Feedback.Analysis.Llm.LlmPricing.None);

        alerts.Enabled.ShouldBeFalse();
        alerts.Reached(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), long.MaxValue / 200).ShouldBeEmpty();
    }
}
