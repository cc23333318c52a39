using Feedback.Analysis;
using Microsoft.Extensions.Time.Testing;
using Shouldly;

namespace Feedback.Analysis.Tests;

public sealed class AnalyzerTests
{
    private readonly CountingClassifier _classifier = new();
    private readonly Analyzer _analyzer;

    public AnalyzerTests() =>
        _analyzer = new Analyzer(_classifier, new ClassificationCache(100, TimeSpan.FromHours(1), new FakeTimeProvider()));

    [Theory]
    [InlineData("a")]
    [InlineData("too short")]
    [InlineData("   nine ch   ")]
    public void Text_under_ten_characters_after_trimming_is_decided_by_validation(string text)
    {
        var result = _analyzer.Analyze(text);

        result.Method.ShouldBe(ProcessingMethod.Validation);
        result.Classification.Sentiment.ShouldBe(Sentiment.Neutral);
        result.Classification.Topic.ShouldBe(Topic.General);
        result.Classification.ConfidenceLevel.ShouldBe(ConfidenceLevel.Low);
        _classifier.Calls.ShouldBe(0);
    }

    [Fact]
    public void Ten_characters_go_to_the_classifier()
    {
        _analyzer.Analyze("0123456789").Method.ShouldBe(ProcessingMethod.MlFallback);
    }

    [Fact]
    public void Characters_are_counted_as_people_see_them_not_as_utf16_units()
    {
        // Nine emoji are 18 UTF-16 units but nine characters.
        _analyzer.Analyze(string.Concat(Enumerable.Repeat("😡", 9))).Method.ShouldBe(ProcessingMethod.Validation);
    }

    [Fact]
    public void Long_text_is_analysed_on_its_first_5000_characters_with_a_warning()
    {
        var text = new string('x', 4990) + "0123456789" + "TAIL";

        var result = _analyzer.Analyze(text);

        _classifier.LastText.ShouldBe(new string('x', 4990) + "0123456789");
        result.Warnings.ShouldHaveSingleItem().ShouldContain("5000");
    }

    [Fact]
    public void Truncation_never_splits_a_character()
    {
        var text = new string('x', 4999) + "😡" + "more";

        _analyzer.Analyze(text);

        _classifier.LastText!.ShouldEndWith("😡");
    }

    [Fact]
    public void The_same_text_is_classified_once_and_then_served_from_the_cache()
    {
        var first = _analyzer.Analyze("The checkout page crashes.");
        var second = _analyzer.Analyze("  The checkout   page crashes. ");

        _classifier.Calls.ShouldBe(1);
        first.CacheHit.ShouldBeFalse();
        second.CacheHit.ShouldBeTrue();
        second.Classification.ShouldBe(first.Classification);
    }

    [Theory]
    [InlineData(0.31, 0.20, AlertSensitivity.Balanced, true)]
    [InlineData(0.30, 0.19, AlertSensitivity.Balanced, false)]
    [InlineData(0.00, 0.50, AlertSensitivity.Balanced, true)]
    [InlineData(0.21, 0.10, AlertSensitivity.Recall, true)]
    [InlineData(0.20, 0.09, AlertSensitivity.Recall, false)]
    [InlineData(0.60, 0.14, AlertSensitivity.Precision, false)]
    [InlineData(0.61, 0.15, AlertSensitivity.Precision, true)]
    public void A_message_alerts_when_its_probability_of_negative_or_mixed_reaches_the_sensitivity_threshold(
        double negative, double mixed, AlertSensitivity sensitivity, bool alerts)
    {
        var neutral = 1 - negative - mixed;
        var result = Result(neutral >= negative ? Sentiment.Neutral : Sentiment.Negative, Math.Max(neutral, negative), new SentimentScores(0, negative, neutral, mixed));

        AlertRule.For(sensitivity).Triggers(result).ShouldBe(alerts);
        AlertRule.For(sensitivity).Explain(result).ShouldStartWith(alerts ? "alert: negative or mixed with probability" : "no alert: negative or mixed with probability");
    }

    [Fact]
    public void The_sensitivities_are_ordered_and_balanced_is_the_default()
    {
        AlertRule.Default.ShouldBe(AlertRule.For(AlertSensitivity.Balanced));
        AlertRule.ThresholdOf(AlertSensitivity.Recall).ShouldBeLessThan(AlertRule.ThresholdOf(AlertSensitivity.Balanced));
        AlertRule.ThresholdOf(AlertSensitivity.Balanced).ShouldBeLessThan(AlertRule.ThresholdOf(AlertSensitivity.Precision));
        AlertRule.TryParseSensitivity(" Recall ", out var parsed).ShouldBeTrue();
        parsed.ShouldBe(AlertSensitivity.Recall);
        AlertRule.TryParseSensitivity("paranoid", out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(AlertSensitivity.Recall)]
    [InlineData(AlertSensitivity.Balanced)]
    [InlineData(AlertSensitivity.Precision)]
    public void An_answer_with_an_action_probability_alerts_by_it_and_not_by_its_sentiments(AlertSensitivity sensitivity)
    {
        var rule = AlertRule.For(sensitivity);
        var threshold = AlertRule.ActionThresholdOf(sensitivity);
        // A polite failure report: neutral, yet a person must act. And a mild gripe: negative, nobody must act.
        var report = Result(Sentiment.Neutral, 0.9, new SentimentScores(0.05, 0.04, 0.9, 0.01));
        var gripe = Result(Sentiment.Negative, 0.9, new SentimentScores(0.02, 0.9, 0.04, 0.04));
        rule.Triggers(report).ShouldBeFalse("without an action probability the sentiment rule decides");
        rule.Triggers(gripe).ShouldBeTrue("without an action probability the sentiment rule decides");

        var actedOn = report with { Classification = report.Classification with { ActionProbability = threshold } };
        var leftAlone = gripe with { Classification = gripe.Classification with { ActionProbability = threshold - 0.01 } };

        rule.Triggers(actedOn).ShouldBeTrue();
        rule.Triggers(leftAlone).ShouldBeFalse();
        rule.Explain(actedOn).ShouldStartWith("alert: the action rule fired: a person must act with probability");
        rule.Explain(leftAlone).ShouldStartWith("no alert: the action rule did not fire");
        rule.Explain(gripe).ShouldContain("the sentiment rule");
    }

    [Fact]
    public void The_action_thresholds_are_ordered_like_the_sentiment_ones()
    {
        AlertRule.ActionThresholdOf(AlertSensitivity.Recall).ShouldBeLessThan(AlertRule.ActionThresholdOf(AlertSensitivity.Balanced));
        AlertRule.ActionThresholdOf(AlertSensitivity.Balanced).ShouldBeLessThan(AlertRule.ActionThresholdOf(AlertSensitivity.Precision));
        AlertRule.Default.ActionThreshold.ShouldBe(AlertRule.ActionThresholdOf(AlertSensitivity.Balanced));
    }

    [Fact]
    public void Custom_alert_sentiments_and_the_older_rule_keep_judging_by_sentiment_when_an_action_probability_is_there()
    {
        // Neutral with a high probability that a person must act; negative with a low one.
        var report = Result(Sentiment.Neutral, 0.9, new SentimentScores(0.05, 0.04, 0.9, 0.01));
        report = report with { Classification = report.Classification with { ActionProbability = 0.95 } };
        var gripe = Result(Sentiment.Negative, 0.9, new SentimentScores(0.02, 0.9, 0.04, 0.04));
        gripe = gripe with { Classification = gripe.Classification with { ActionProbability = 0.05 } };
        var negativeOnly = AlertRule.For(AlertSensitivity.Balanced, new HashSet<Sentiment> { Sentiment.Negative });
        var older = AlertRule.Default with { MinimumConfidence = ConfidenceLevel.Medium };

        AlertRule.Default.ReadsAction.ShouldBeTrue();
        AlertRule.Default.Triggers(report).ShouldBeTrue();
        AlertRule.Default.Triggers(gripe).ShouldBeFalse();
        foreach (var rule in new[] { negativeOnly, older })
        {
            rule.ReadsAction.ShouldBeFalse();
            rule.Triggers(report).ShouldBeFalse();
            rule.Triggers(gripe).ShouldBeTrue();
        }

        negativeOnly.Explain(gripe).ShouldStartWith("alert: negative with probability 0.90 (the sentiment rule");
    }

    [Fact]
    public void A_message_too_short_to_judge_never_alerts()
    {
        var result = Result(Sentiment.Negative, 0.99, new SentimentScores(0, 0.99, 0.01, 0)) with { Method = ProcessingMethod.Validation };

        AlertRule.For(AlertSensitivity.Recall).Triggers(result).ShouldBeFalse();
    }

    [Fact]
    public void The_older_rule_needs_a_negative_or_mixed_top_answer_with_at_least_its_confidence_level()
    {
        var rule = AlertRule.Default with { MinimumConfidence = ConfidenceLevel.Medium };

        rule.Triggers(Result(Sentiment.Negative, 0.81)).ShouldBeTrue();
        rule.Triggers(Result(Sentiment.Mixed, 0.50)).ShouldBeTrue();
        rule.Triggers(Result(Sentiment.Negative, 0.49)).ShouldBeFalse();
        rule.Triggers(Result(Sentiment.Positive, 0.99)).ShouldBeFalse();
        rule.Triggers(Result(Sentiment.Neutral, 0.99)).ShouldBeFalse();
    }

    [Theory]
    [InlineData(0.81, ConfidenceLevel.High)]
    [InlineData(0.80, ConfidenceLevel.Medium)]
    [InlineData(0.50, ConfidenceLevel.Medium)]
    [InlineData(0.4999, ConfidenceLevel.Low)]
    public void Confidence_levels_follow_the_contract_thresholds(double confidence, ConfidenceLevel expected)
    {
        Result(Sentiment.Negative, confidence).Classification.ConfidenceLevel.ShouldBe(expected);
    }

    private static AnalysisResult Result(Sentiment sentiment, double confidence, SentimentScores? scores = null) => new(
        new Classification(sentiment, Topic.Bug, confidence, scores ?? SentimentScores.Uniform, "en", []),
        ProcessingMethod.MlFallback, "test", null, [], false);

    private sealed class CountingClassifier : ILocalClassifier
    {
        public int Calls { get; private set; }

        public string? LastText { get; private set; }

        public string Version => "counting-1";

        public Classification Classify(string text)
        {
            Calls++;
            LastText = text;
            return new Classification(Sentiment.Negative, Topic.Bug, 0.9, new(0.03, 0.9, 0.04, 0.03), "en", []);
        }
    }
}
