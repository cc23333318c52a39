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

    [Fact]
    public void The_default_alert_rule_needs_a_negative_or_mixed_answer_with_at_least_medium_confidence()
    {
        AlertRule.Default.Triggers(Result(Sentiment.Negative, 0.81)).ShouldBeTrue();
        AlertRule.Default.Triggers(Result(Sentiment.Mixed, 0.50)).ShouldBeTrue();
        AlertRule.Default.Triggers(Result(Sentiment.Negative, 0.49)).ShouldBeFalse();
        AlertRule.Default.Triggers(Result(Sentiment.Positive, 0.99)).ShouldBeFalse();
        AlertRule.Default.Triggers(Result(Sentiment.Neutral, 0.99)).ShouldBeFalse();
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

    private static AnalysisResult Result(Sentiment sentiment, double confidence) => new(
        new Classification(sentiment, Topic.Bug, confidence, SentimentScores.Uniform, "en", []),
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
